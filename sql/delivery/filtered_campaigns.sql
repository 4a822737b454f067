-- Queued or sending campaigns (of one tenant, or of all with :tenant_id NULL) with final delivery outcomes and at
-- least one of them carrier filtering (30007): what the share rule checks between reports. In campaign_id order
-- (each pause locks its campaign): the order a re-send locks its campaigns in, so the two never deadlock.
SELECT c.tenant_id, c.campaign_id,
       count(*) AS final,
       sum(CASE WHEN r.delivery_error_code = 30007 THEN 1 ELSE 0 END) AS filtered
FROM campaigns AS c
JOIN recipients AS r ON r.campaign_id = c.campaign_id
WHERE c.state IN ('queued', 'sending') AND (:tenant_id IS NULL OR c.tenant_id = :tenant_id)
  AND r.delivery_status IN ('delivered', 'undelivered', 'failed')
GROUP BY c.tenant_id, c.campaign_id
HAVING sum(CASE WHEN r.delivery_error_code = 30007 THEN 1 ELSE 0 END) > 0
ORDER BY c.campaign_id
