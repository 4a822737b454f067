-- Occurrences queued and never started by a send run: the sensor starts their first run (the send queue sensor
-- leaves these to it, and works them like any campaign once started: retries, resumes).
SELECT o.recurring_id, o.occurrence_at, c.tenant_id, c.campaign_id, c.generation
FROM recurring_occurrences AS o
JOIN campaigns AS c ON c.campaign_id = o.campaign_id
WHERE c.state = 'queued' AND c.first_run_at IS NULL
ORDER BY o.occurrence_at, o.recurring_id
