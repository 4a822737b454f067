-- Ledger v9 on PostgreSQL: a tenant's own price per SMS segment (see sql/ledger/009_tenant_prices.sql).

CREATE TABLE tenant_prices (
    tenant_id          INTEGER PRIMARY KEY REFERENCES tenants(tenant_id),
    usd_per_segment    DOUBLE PRECISION NOT NULL CHECK (usd_per_segment >= 0),
    updated_at         TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
