-- Suppression is checked again at claim time: a number suppressed since launch is skipped, never sent.
UPDATE recipients
SET state = 'skipped', skip_reason = 'suppressed', updated_at = :now
WHERE recipient_id IN (SELECT value FROM json_each(:ids))
  AND state = 'pending'
  AND phone_e164 IN (SELECT phone_e164 FROM suppression WHERE tenant_id = :tenant_id)
