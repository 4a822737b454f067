-- Records the frozen audience's size and exclusion counts once every recipient row is written.
UPDATE campaigns
SET recipient_count = (SELECT count(*) FROM recipients WHERE campaign_id = :campaign_id),
    excluded_json = :excluded_json,
    updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE tenant_id = :tenant_id AND campaign_id = :campaign_id
RETURNING recipient_count
