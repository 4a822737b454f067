-- Remove one tenant's template, by name.
DELETE FROM templates WHERE tenant_id = :tenant_id AND name = :name
