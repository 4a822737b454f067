-- A batch of one tenant's messages (optionally one campaign's) whose delivery is not final and is due a check.
SELECT r.recipient_id, r.sid, r.sent_at, r.delivery_status
FROM recipients AS r
JOIN campaigns AS c ON c.campaign_id = r.campaign_id
WHERE r.delivery_status IN ('queued', 'sending', 'sent') AND r.delivery_next_check_at <= :now
  AND c.tenant_id = :tenant_id AND (:campaign_id IS NULL OR r.campaign_id = :campaign_id)
  AND r.sid IS NOT NULL
ORDER BY r.delivery_next_check_at, r.recipient_id
LIMIT :limit
