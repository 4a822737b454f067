-- What the run's watcher needs each tick: the campaign's state and who holds it.
SELECT state, runner_id FROM campaigns WHERE tenant_id = :tenant_id AND campaign_id = :campaign_id
