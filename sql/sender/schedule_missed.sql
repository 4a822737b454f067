-- One tenant's queued campaigns that never started and whose send time plus max lateness has passed.
SELECT campaign_id FROM campaigns
WHERE tenant_id = :tenant_id AND state = 'queued' AND send_at IS NOT NULL AND first_run_at IS NULL
  AND max_lateness_s IS NOT NULL AND send_at + max_lateness_s < :now
ORDER BY campaign_id
