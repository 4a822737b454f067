-- The delivery columns of some recipients of one campaign (merged into the delivery log by recipient_id).
SELECT recipient_id, delivery_status, delivery_error_code, delivered_at
FROM recipients
WHERE campaign_id = :campaign_id AND recipient_id IN (SELECT value FROM json_each(:ids))
