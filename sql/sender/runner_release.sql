-- The owning run lets go of its campaign.
UPDATE campaigns SET runner_id = NULL, runner_host = NULL, runner_pid = NULL, runner_lease_until = NULL
WHERE tenant_id = :tenant_id AND campaign_id = :campaign_id AND runner_id = :runner_id
