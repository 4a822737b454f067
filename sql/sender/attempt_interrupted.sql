-- The attempts-log row of a claim that a dead run left open.
UPDATE attempts SET finished_at = :now, outcome = 'interrupted'
WHERE recipient_id = :recipient_id AND attempt_no = :attempt_no AND finished_at IS NULL
