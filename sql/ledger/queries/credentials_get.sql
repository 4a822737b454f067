-- A tenant's Twilio credentials with the encrypted token, for sending.
SELECT account_sid, auth_token_encrypted, from_number, messaging_service_sid, api_base_url
FROM tenant_credentials
WHERE tenant_id = :tenant_id
