-- A tenant's recipients whose message ended undelivered with a code that may be re-sent (30003, 30008), whose
-- campaign is still queued, sending or completed, re-sent fewer than :resend_max times, whose final report came at
-- least :delay_s ago, and whose number is neither suppressed nor undeliverable now.
SELECT r.recipient_id, r.campaign_id, r.sid, r.delivery_status, r.delivery_error_code, r.sent_at,
       (SELECT count(*) FROM delivery_resends AS d WHERE d.recipient_id = r.recipient_id) AS resends
FROM recipients AS r
JOIN campaigns AS c ON c.campaign_id = r.campaign_id
WHERE c.tenant_id = :tenant_id
  AND c.state IN ('queued', 'sending', 'completed')
  AND r.state = 'sent' AND r.delivery_status = 'undelivered' AND r.delivery_error_code IN (30003, 30008)
  AND (SELECT count(*) FROM delivery_resends AS d WHERE d.recipient_id = r.recipient_id) < :resend_max
  AND coalesce((SELECT max(e.received_at) FROM delivery_events AS e
                WHERE e.tenant_id = :tenant_id AND e.sid = r.sid AND e.applied = 1), r.sent_at) <= :now - :delay_s
  AND r.phone_e164 NOT IN (SELECT phone_e164 FROM suppression WHERE tenant_id = :tenant_id)
  AND r.phone_e164 NOT IN (SELECT phone_e164 FROM undeliverable_numbers WHERE tenant_id = :tenant_id)
ORDER BY r.recipient_id
LIMIT :limit
