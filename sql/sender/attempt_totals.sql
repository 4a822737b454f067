-- A campaign's attempts: how many, how many ended in a retry, and how many were sent in the recent window.
SELECT
    count(*) AS attempts,
    count(*) FILTER (WHERE outcome IN ('retry', 'ambiguous')) AS retries,
    count(*) FILTER (WHERE outcome IN ('sent', 'recovered_sent') AND finished_at >= :since) AS recent_sent,
    min(started_at) AS first_started_at,
    max(finished_at) AS last_finished_at
FROM attempts
WHERE campaign_id = :campaign_id
