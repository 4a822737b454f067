-- PostgreSQL variant of sql/sender/claim_skip_suppressed.sql: json_each is json_array_elements_text.
-- Suppression is checked again at claim time: a number suppressed since launch is skipped, never sent.
UPDATE recipients
SET state = 'skipped', skip_reason = 'suppressed', updated_at = :now
WHERE recipient_id IN (SELECT value::bigint FROM json_array_elements_text(CAST(:ids AS json)))
  AND state = 'pending'
  AND phone_e164 IN (SELECT phone_e164 FROM suppression WHERE tenant_id = :tenant_id)
