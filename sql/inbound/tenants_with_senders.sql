-- Tenants with Twilio credentials and a sender number (whose inbound messages the poller can list).
SELECT tenant_id FROM tenant_credentials WHERE from_number IS NOT NULL ORDER BY tenant_id
