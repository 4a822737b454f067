-- One tenant's campaigns that a send run should work now: queued ones, sending ones with a recipient due,
-- and any campaign holding a recipient stranded in 'sending' past its lease; none owned by a live run.
SELECT c.campaign_id, c.generation
FROM campaigns AS c
WHERE c.tenant_id = :tenant_id
  AND (c.runner_lease_until IS NULL OR c.runner_lease_until < :now)
  AND (
        c.state = 'queued'
     OR (c.state = 'sending' AND EXISTS (
            SELECT 1 FROM recipients AS r
            WHERE r.campaign_id = c.campaign_id AND r.state = 'pending' AND r.due_at <= :now))
     OR EXISTS (
            SELECT 1 FROM recipients AS r
            WHERE r.campaign_id = c.campaign_id AND r.state = 'sending' AND r.lease_until < :now)
  )
ORDER BY c.campaign_id
