-- The per-recipient delivery log of one tenant's campaign, optionally filtered by state and phone.
SELECT
    r.campaign_id, r.recipient_id, r.customer_id, r.phone_e164, r.full_name, r.state, r.skip_reason,
    r.attempts, r.last_error_code, r.last_error_message, r.sid AS message_sid, r.segments, r.body,
    (SELECT a.started_at FROM attempts AS a WHERE a.recipient_id = r.recipient_id AND a.attempt_no = 1)
        AS first_attempt_at,
    r.sent_at, r.updated_at, r.delivery_status, r.delivery_error_code, r.delivered_at
FROM recipients AS r
JOIN campaigns AS c ON c.campaign_id = r.campaign_id
WHERE c.tenant_id = :tenant_id AND r.campaign_id = :campaign_id
  AND (:state IS NULL OR r.state = :state)
  AND (:phone IS NULL OR r.phone_e164 = :phone)
  AND r.recipient_id > :after_id
ORDER BY r.recipient_id
LIMIT :limit
