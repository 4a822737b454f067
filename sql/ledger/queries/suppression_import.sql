-- One number of a CSV import (the caller has already left out the numbers suppressed before; one another import
-- added meanwhile, from another worker, stays as it is).
INSERT INTO suppression (tenant_id, phone_e164, reason, source)
VALUES (:tenant_id, :phone_e164, :reason, 'import')
ON CONFLICT (tenant_id, phone_e164) DO NOTHING
