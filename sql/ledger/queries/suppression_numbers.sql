-- Every number a tenant has suppressed, sorted.
SELECT phone_e164 FROM suppression WHERE tenant_id = :tenant_id ORDER BY phone_e164
