-- Give a tenant its row (default settings) when it has none.
INSERT OR IGNORE INTO tenants (tenant_id) VALUES (:tenant_id)
