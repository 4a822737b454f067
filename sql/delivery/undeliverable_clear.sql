-- A message to this number was delivered: it is not undeliverable (any more) for the tenant.
DELETE FROM undeliverable_numbers WHERE tenant_id = :tenant_id AND phone_e164 = :phone_e164
