-- Every tenant known to the ledger, with the name it was given ('' when none).
SELECT tenant_id, name FROM tenants ORDER BY tenant_id
