-- PostgreSQL variant of sql/ledger/queries/suppression_changes.sql: a negative LIMIT is no limit.
-- A tenant's suppression-list changes, newest first; :phone_e164 NULL = every number; :limit -1 = no limit.
SELECT phone_e164, change, source, reason, source_sid, changed_at
FROM suppression_changes
WHERE tenant_id = :tenant_id AND (:phone_e164 IS NULL OR phone_e164 = :phone_e164)
ORDER BY change_id DESC
LIMIT CASE WHEN :limit >= 0 THEN :limit END
