-- Links a resend campaign to the campaign it resends.
UPDATE campaigns SET origin_campaign_id = :origin_campaign_id
WHERE tenant_id = :tenant_id AND campaign_id = :campaign_id
