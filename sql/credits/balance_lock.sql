-- Inside the claim's transaction, before fitting the claim to the balance and reserving from it: a metered tenant's
-- balance in SMS segments (no row: not metered). On SQLite the transaction already is the only writer (BEGIN
-- IMMEDIATE), so this only reads the row; the PostgreSQL variant locks it until the transaction ends.
SELECT balance FROM credit_accounts WHERE tenant_id = :tenant_id
