-- The tenants the warehouse has data for.
SELECT tenant_id FROM tenants ORDER BY tenant_id
