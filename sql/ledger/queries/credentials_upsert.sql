-- Store (or replace) a tenant's Twilio credentials; the auth token arrives already encrypted.
INSERT INTO tenant_credentials (
    tenant_id, account_sid, auth_token_encrypted, from_number, messaging_service_sid, api_base_url
)
VALUES (:tenant_id, :account_sid, :auth_token_encrypted, :from_number, :messaging_service_sid, :api_base_url)
ON CONFLICT (tenant_id) DO UPDATE SET
    account_sid = excluded.account_sid,
    auth_token_encrypted = excluded.auth_token_encrypted,
    from_number = excluded.from_number,
    messaging_service_sid = excluded.messaging_service_sid,
    api_base_url = excluded.api_base_url,
    updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
