-- Marks whether a queued scheduled campaign still has to freeze its audience (at its send time).
UPDATE campaigns
SET freeze_pending = :freeze_pending, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE tenant_id = :tenant_id AND campaign_id = :campaign_id
