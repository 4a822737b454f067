-- Sets (or clears, with NULL) the tenant's public status-callback URL.
UPDATE tenant_credentials SET status_callback_url = :url, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE tenant_id = :tenant_id
