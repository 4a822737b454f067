-- PostgreSQL variant of sql/credits/balance_lock.sql: the account's row stays locked until the transaction ends, so
-- two claims of one tenant never both fit themselves to the same balance (the second waits, then reads what the
-- first reserved).
SELECT balance FROM credit_accounts WHERE tenant_id = :tenant_id
FOR UPDATE
