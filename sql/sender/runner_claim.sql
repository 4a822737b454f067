-- Makes one send run the campaign's only owner (the caller checked that no live run owns it).
UPDATE campaigns
SET runner_id = :runner_id, runner_host = :runner_host, runner_pid = :runner_pid,
    runner_lease_until = :lease_until
WHERE tenant_id = :tenant_id AND campaign_id = :campaign_id
