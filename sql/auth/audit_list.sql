-- The audit log, newest first: one tenant's rows (:tenant_id), or every row (:tenant_id NULL, operators only),
-- narrowed by action prefix, actor and time (ISO-8601 UTC bounds, either may be NULL).
SELECT audit_id, at, actor, tenant_id, action, object, detail
FROM audit_log
WHERE (:all_tenants = 1 OR tenant_id = :tenant_id)
  AND (:action IS NULL OR action = :action OR action LIKE :action || '.%')
  AND (:actor IS NULL OR actor = :actor)
  AND (:since IS NULL OR at >= :since)
  AND (:until IS NULL OR at < :until)
ORDER BY audit_id DESC
LIMIT :limit
