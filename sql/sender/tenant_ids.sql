-- Every tenant known to the ledger.
SELECT tenant_id FROM tenants ORDER BY tenant_id
