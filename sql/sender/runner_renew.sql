-- Extends the owning run's lease on its campaign.
UPDATE campaigns SET runner_lease_until = :lease_until
WHERE tenant_id = :tenant_id AND campaign_id = :campaign_id AND runner_id = :runner_id
