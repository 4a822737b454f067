-- (Ledger, SQLite) one tenant's suppressed numbers.
SELECT phone_e164 FROM suppression WHERE tenant_id = ?
