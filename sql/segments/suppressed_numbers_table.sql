-- A held preview cursor's copy of the numbers to leave out (suppression.suppressed_numbers' columns), per tenant:
-- audience.use_suppressed replaces a tenant's rows when the ledger gave new ones.
CREATE TEMP TABLE suppressed_numbers (
    tenant_id     INTEGER NOT NULL,
    phone_e164    VARCHAR NOT NULL,
    listed        BOOLEAN NOT NULL,
    undeliverable BOOLEAN NOT NULL
)
