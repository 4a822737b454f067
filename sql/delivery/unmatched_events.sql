-- Reports that arrived before any recipient owned their SID, now owned by a recipient of the same tenant.
SELECT e.event_id, e.tenant_id, e.sid, e.status, e.error_code, e.received_at, r.recipient_id
FROM delivery_events AS e
JOIN recipients AS r ON r.sid = e.sid
JOIN campaigns AS c ON c.campaign_id = r.campaign_id AND c.tenant_id = e.tenant_id
WHERE e.recipient_id IS NULL
ORDER BY e.event_id
LIMIT :limit
