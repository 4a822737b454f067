-- (Ledger, SQLite) one tenant's numbers to exclude, with the reason: its suppression list (when :suppressed is 1)
-- and its undeliverable numbers (always; a number on both counts as suppressed when the list is excluded).
SELECT phone_e164, 'suppressed' AS exclusion FROM suppression WHERE tenant_id = :tenant_id AND :suppressed = 1
UNION ALL
SELECT u.phone_e164, 'undeliverable'
FROM undeliverable_numbers AS u
WHERE u.tenant_id = :tenant_id
  AND (:suppressed = 0
       OR NOT EXISTS (SELECT 1 FROM suppression AS s WHERE s.tenant_id = u.tenant_id AND s.phone_e164 = u.phone_e164))
