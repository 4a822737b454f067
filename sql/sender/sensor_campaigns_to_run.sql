-- One tenant's campaigns that a send run should work now (the send queue sensor's rule): queued ones, and
-- sending ones with a recipient due or one stranded in 'sending' past its lease; none owned by a live run.
-- Paused, cancelled and finished campaigns are never selected: a send run would refuse them anyway, and a
-- paused campaign's stranded recipients are recovered by the run that its resume (back to queued) launches.
-- A scheduled campaign that never started is selected only from its send time to its send time + max lateness
-- (a missed one is cancelled by the sensor, never sent); one whose audience is still to freeze always is. A recurring
-- campaign's occurrence gets its first run from recurring_campaigns_sensor (one run per occurrence), not from here.
SELECT c.campaign_id, c.generation
FROM campaigns AS c
WHERE c.tenant_id = :tenant_id
  AND c.state IN ('queued', 'sending')
  AND (c.runner_lease_until IS NULL OR c.runner_lease_until < :now)
  AND (c.state != 'queued' OR c.send_at IS NULL OR c.first_run_at IS NOT NULL
       OR (c.send_at <= :now AND (c.max_lateness_s IS NULL OR :now <= c.send_at + c.max_lateness_s)))
  AND (c.first_run_at IS NOT NULL
       OR NOT EXISTS (SELECT 1 FROM recurring_occurrences AS o WHERE o.campaign_id = c.campaign_id))
  AND (
        c.state = 'queued'
     OR c.freeze_pending = 1
     OR EXISTS (
            SELECT 1 FROM recipients AS r
            WHERE r.campaign_id = c.campaign_id AND r.state = 'pending' AND r.due_at <= :now)
     OR EXISTS (
            SELECT 1 FROM recipients AS r
            WHERE r.campaign_id = c.campaign_id AND r.state = 'sending' AND r.lease_until < :now)
  )
ORDER BY c.campaign_id
