-- The recipient of one tenant that owns this SID, with its delivery state (none for another tenant's SID).
SELECT r.recipient_id, r.campaign_id, r.delivery_status, r.delivery_error_code, r.delivered_at, r.sent_at
FROM recipients AS r
JOIN campaigns AS c ON c.campaign_id = r.campaign_id
WHERE r.sid = :sid AND c.tenant_id = :tenant_id
