-- Who suppressed one number of a tenant (no row: it is not suppressed).
SELECT source, source_sid FROM suppression WHERE tenant_id = :tenant_id AND phone_e164 = :phone_e164
