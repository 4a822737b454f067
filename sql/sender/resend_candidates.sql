-- The recipients of one tenant's campaign that did not get the message, by outcome, with why a resend leaves one
-- out now: `suppressed` (on the tenant's suppression list today) or `undeliverable_number` (its own error said the
-- number cannot receive SMS). :outcomes is a JSON array of resend outcomes (failed, undelivered, unknown).
SELECT
    r.recipient_id, r.customer_id, r.phone_e164, r.full_name, r.body,
    CASE
        WHEN r.state = 'failed' OR r.delivery_status = 'failed' THEN 'failed'
        WHEN r.delivery_status = 'undelivered' THEN 'undelivered'
        ELSE 'unknown'
    END AS outcome,
    CASE
        WHEN EXISTS (SELECT 1 FROM suppression AS s WHERE s.tenant_id = c.tenant_id AND s.phone_e164 = r.phone_e164)
            THEN 'suppressed'
        WHEN r.last_error_code IN (SELECT CAST(value AS INTEGER) FROM json_each(:unreachable_codes))
          OR r.delivery_error_code IN (SELECT CAST(value AS INTEGER) FROM json_each(:unreachable_codes))
            THEN 'undeliverable_number'
    END AS left_out
FROM recipients AS r
JOIN campaigns AS c ON c.campaign_id = r.campaign_id
WHERE c.tenant_id = :tenant_id AND r.campaign_id = :campaign_id
  AND (
        ('failed' IN (SELECT value FROM json_each(:outcomes))
            AND (r.state = 'failed' OR (r.state = 'sent' AND r.delivery_status = 'failed')))
     OR ('undelivered' IN (SELECT value FROM json_each(:outcomes))
            AND r.state = 'sent' AND r.delivery_status = 'undelivered')
     OR ('unknown' IN (SELECT value FROM json_each(:outcomes))
            AND r.state = 'sent' AND r.delivery_status = 'unknown')
  )
ORDER BY r.recipient_id
