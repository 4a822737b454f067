-- Tenants with at least one message whose delivery is not final and whose next check is due.
SELECT DISTINCT c.tenant_id
FROM recipients AS r
JOIN campaigns AS c ON c.campaign_id = r.campaign_id
WHERE r.delivery_status IN ('queued', 'sending', 'sent') AND r.delivery_next_check_at <= :now
ORDER BY c.tenant_id
