-- Records the first send run's start (a resumed campaign keeps the first).
UPDATE campaigns
SET first_run_at = coalesce(first_run_at, :now)
WHERE tenant_id = :tenant_id AND campaign_id = :campaign_id
