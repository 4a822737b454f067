INSERT INTO audit_log (actor, tenant_id, action, object, detail)
VALUES (:actor, :tenant_id, :action, :object, :detail)
