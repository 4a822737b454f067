-- A number the provider reports as opted out (21610) is suppressed for every later send of the tenant.
INSERT INTO suppression (tenant_id, phone_e164, reason, source)
VALUES (:tenant_id, :phone_e164, :reason, 'provider_opt_out')
ON CONFLICT (tenant_id, phone_e164) DO NOTHING
