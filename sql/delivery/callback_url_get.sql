-- The tenant's public status-callback URL (NULL: none; delivery is polled).
SELECT status_callback_url FROM tenant_credentials WHERE tenant_id = :tenant_id
