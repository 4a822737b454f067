-- A tenant's templates, by name.
SELECT template_id, tenant_id, name, body, created_at, updated_at
FROM templates
WHERE tenant_id = :tenant_id
ORDER BY name
