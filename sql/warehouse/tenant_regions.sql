-- Run against the LEDGER (SQLite): each tenant's default phone region, which the sync uses for national numbers.
SELECT tenant_id, default_region FROM tenants
