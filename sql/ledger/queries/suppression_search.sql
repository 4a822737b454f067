-- A tenant's suppressed numbers whose number (as written or as digits) or reason matches; LIKE patterns
-- escape \ % _ with a backslash; :limit -1 = no limit.
SELECT phone_e164, reason, source, added_at, source_sid
FROM suppression
WHERE tenant_id = :tenant_id
  AND (phone_e164 LIKE :pattern ESCAPE '\'
       OR phone_e164 LIKE :digit_pattern ESCAPE '\'
       OR reason LIKE :pattern ESCAPE '\')
ORDER BY phone_e164
LIMIT :limit
