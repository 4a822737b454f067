-- One number of a CSV import (the caller has already left out the numbers suppressed before).
INSERT INTO suppression (tenant_id, phone_e164, reason, source)
VALUES (:tenant_id, :phone_e164, :reason, 'import')
