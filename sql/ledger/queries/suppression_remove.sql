-- Lift the suppression of one number of a tenant.
DELETE FROM suppression WHERE tenant_id = :tenant_id AND phone_e164 = :phone_e164
