-- PostgreSQL variant of sql/ledger/queries/suppression_search.sql: SQLite's LIKE ignores ASCII case (ILIKE); a negative LIMIT is no limit.
-- A tenant's suppressed numbers whose number (as written or as digits) or reason matches; ILIKE patterns
-- escape \ % _ with a backslash; :limit -1 = no limit.
SELECT phone_e164, reason, source, added_at, source_sid
FROM suppression
WHERE tenant_id = :tenant_id
  AND (phone_e164 ILIKE :pattern ESCAPE '\'
       OR phone_e164 ILIKE :digit_pattern ESCAPE '\'
       OR reason ILIKE :pattern ESCAPE '\')
ORDER BY phone_e164
LIMIT CASE WHEN :limit >= 0 THEN :limit END
