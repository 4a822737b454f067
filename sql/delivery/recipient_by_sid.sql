-- The recipient of one tenant that owns this SID, with its delivery state (none for another tenant's SID).
-- `current` 0: the SID is one the recipient had before a re-send (kept for the record, never applied).
SELECT recipient_id, campaign_id, phone_e164, delivery_status, delivery_error_code, delivered_at, sent_at, current
FROM (
    SELECT r.recipient_id, r.campaign_id, r.phone_e164, r.delivery_status, r.delivery_error_code, r.delivered_at,
           r.sent_at, 1 AS current
    FROM recipients AS r
    JOIN campaigns AS c ON c.campaign_id = r.campaign_id
    WHERE r.sid = :sid AND c.tenant_id = :tenant_id
    UNION ALL
    SELECT r.recipient_id, r.campaign_id, r.phone_e164, d.previous_status, d.previous_error_code, NULL,
           d.previous_sent_at, 0 AS current
    FROM delivery_resends AS d
    JOIN recipients AS r ON r.recipient_id = d.recipient_id
    WHERE d.previous_sid = :sid AND d.tenant_id = :tenant_id
) AS owners
ORDER BY current DESC
LIMIT 1
