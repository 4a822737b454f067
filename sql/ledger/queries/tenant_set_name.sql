-- Rename a tenant.
UPDATE tenants
SET name = :name, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE tenant_id = :tenant_id
