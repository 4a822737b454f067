-- Gives a draft campaign its send time, max lateness and when its audience is frozen.
UPDATE campaigns
SET send_at = :send_at, max_lateness_s = :max_lateness_s, freeze_at = :freeze_at,
    updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE tenant_id = :tenant_id AND campaign_id = :campaign_id AND state = 'draft'
