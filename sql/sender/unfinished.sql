-- What is left of a campaign: recipients not yet settled and the earliest time one of them is due.
SELECT
    count(*) FILTER (WHERE state = 'pending') AS pending,
    count(*) FILTER (WHERE state = 'sending') AS sending,
    min(due_at) FILTER (WHERE state = 'pending') AS next_due_at
FROM recipients
WHERE campaign_id = :campaign_id AND state IN ('pending', 'sending')
