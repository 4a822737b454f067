-- Closes one attempts-log row with its outcome.
UPDATE attempts
SET finished_at = :now, outcome = :outcome, error_code = :error_code, error_message = :error_message,
    http_status = :http_status, sid = :sid
WHERE recipient_id = :recipient_id AND attempt_no = :attempt_no
