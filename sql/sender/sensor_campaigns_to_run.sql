-- One tenant's campaigns that a send run should work now (the send queue sensor's rule): queued ones, and
-- sending ones with a recipient due or one stranded in 'sending' past its lease; none owned by a live run.
-- Paused, cancelled and finished campaigns are never selected: a send run would refuse them anyway, and a
-- paused campaign's stranded recipients are recovered by the run that its resume (back to queued) launches.
SELECT c.campaign_id, c.generation
FROM campaigns AS c
WHERE c.tenant_id = :tenant_id
  AND c.state IN ('queued', 'sending')
  AND (c.runner_lease_until IS NULL OR c.runner_lease_until < :now)
  AND (
        c.state = 'queued'
     OR EXISTS (
            SELECT 1 FROM recipients AS r
            WHERE r.campaign_id = c.campaign_id AND r.state = 'pending' AND r.due_at <= :now)
     OR EXISTS (
            SELECT 1 FROM recipients AS r
            WHERE r.campaign_id = c.campaign_id AND r.state = 'sending' AND r.lease_until < :now)
  )
ORDER BY c.campaign_id
