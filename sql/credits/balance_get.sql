-- A metered tenant's balance in SMS segments (no row: the tenant is not metered and sends without limit).
SELECT balance FROM credit_accounts WHERE tenant_id = :tenant_id
