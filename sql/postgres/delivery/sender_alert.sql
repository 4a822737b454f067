-- PostgreSQL variant of sql/delivery/sender_alert.sql: json_extract is ->>.
-- The tenant's latest report that its sender is not registered (30034), with the sender it named (a callback's
-- MessagingServiceSid or From, a poll's messaging_service_sid or from), unless a message of the tenant was delivered
-- after it.
SELECT e.sid, e.error_code, e.received_at, r.campaign_id, c.state AS campaign_state,
       coalesce(nullif((CAST(e.raw_json AS json) ->> 'MessagingServiceSid'), ''),
                nullif((CAST(e.raw_json AS json) ->> 'From'), ''),
                nullif((CAST(e.raw_json AS json) ->> 'messaging_service_sid'), ''),
                nullif((CAST(e.raw_json AS json) ->> 'from'), '')) AS sender
FROM delivery_events AS e
JOIN recipients AS r ON r.recipient_id = e.recipient_id
JOIN campaigns AS c ON c.campaign_id = r.campaign_id AND c.tenant_id = e.tenant_id
WHERE e.tenant_id = :tenant_id AND e.error_code = 30034
  AND NOT EXISTS (
      SELECT 1 FROM delivery_events AS d
      WHERE d.tenant_id = e.tenant_id AND d.status IN ('delivered', 'read') AND d.received_at > e.received_at)
ORDER BY e.received_at DESC, e.event_id DESC
LIMIT 1
