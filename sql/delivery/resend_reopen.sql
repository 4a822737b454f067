-- A completed campaign with recipients to send again is queued again (a new generation: the send sensor launches a
-- run for it); a queued or sending campaign is left as it is.
UPDATE campaigns
SET state = 'queued', generation = generation + 1, finished_at = NULL,
    updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE tenant_id = :tenant_id AND campaign_id = :campaign_id AND state = 'completed'
