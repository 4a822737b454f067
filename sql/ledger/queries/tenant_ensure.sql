-- Give a tenant its row (default settings) when it has none.
INSERT INTO tenants (tenant_id) VALUES (:tenant_id)
ON CONFLICT (tenant_id) DO NOTHING
