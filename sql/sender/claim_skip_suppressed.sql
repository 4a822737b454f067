-- Suppression and undeliverable numbers are checked again at claim time: a number suppressed since launch, or that
-- Twilio reported unknown or unreachable (30005, 30006) since, is skipped with that reason, never sent.
UPDATE recipients
SET state = 'skipped',
    skip_reason = CASE
        WHEN phone_e164 IN (SELECT phone_e164 FROM suppression WHERE tenant_id = :tenant_id) THEN 'suppressed'
        ELSE 'undeliverable'
    END,
    updated_at = :now
WHERE recipient_id IN (SELECT CAST(value AS BIGINT) FROM json_each(:ids))
  AND state = 'pending'
  AND (phone_e164 IN (SELECT phone_e164 FROM suppression WHERE tenant_id = :tenant_id)
       OR phone_e164 IN (SELECT phone_e164 FROM undeliverable_numbers WHERE tenant_id = :tenant_id))
