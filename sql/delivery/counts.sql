-- One campaign's sent recipients by delivery status and error code.
SELECT coalesce(delivery_status, 'none') AS delivery_status, delivery_error_code, count(*) AS recipients
FROM recipients
WHERE campaign_id = :campaign_id AND state = 'sent'
GROUP BY 1, 2
