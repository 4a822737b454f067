-- What may be shown of a tenant's Twilio credentials: everything except the (encrypted) token.
SELECT account_sid, from_number, messaging_service_sid, api_base_url, updated_at
FROM tenant_credentials
WHERE tenant_id = :tenant_id
