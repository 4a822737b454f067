-- Create a tenant's template, or replace the body of the tenant's template with that name.
INSERT INTO templates (tenant_id, name, body)
VALUES (:tenant_id, :name, :body)
ON CONFLICT (tenant_id, name) DO UPDATE SET
    body = excluded.body,
    updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
