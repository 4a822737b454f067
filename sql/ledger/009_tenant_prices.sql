-- Ledger v9: a tenant's own price per SMS segment (its Twilio contract), used instead of the product's table of
-- Twilio's list prices when a launch estimates a campaign's cost. No row: the table's prices.

CREATE TABLE tenant_prices (
    tenant_id          INTEGER PRIMARY KEY REFERENCES tenants(tenant_id),
    usd_per_segment    REAL    NOT NULL CHECK (usd_per_segment >= 0),
    updated_at         TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
