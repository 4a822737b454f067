-- Ledger v13: SMS credits (Booknetic SaaS's "Credit Topup"). A tenant is metered from its first top-up on; a tenant
-- with no credit account (every single-site install) sends without limit. Every change of a balance is one row of
-- credit_entries, append-only (triggers refuse UPDATE and DELETE); credit_accounts keeps each metered tenant's
-- balance, maintained by a trigger, so the engine's claim reads one row. Segments are signed: a top-up and a refund
-- add, a debit takes. A send run reserves (debits) the segments of each chunk it claims in the claim's transaction;
-- each attempt's close keeps them when Twilio accepted the message (adjusted to Twilio's num_segments when it
-- counted otherwise) or refunds them, in the transaction that records the outcome: a crash never loses or repeats one.

CREATE TABLE credit_entries (
    entry_id      INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(tenant_id),
    kind          TEXT    NOT NULL CHECK (kind IN ('topup', 'debit', 'refund', 'adjust')),
    segments      INTEGER NOT NULL,                     -- signed: + topup/refund, - debit, either for adjust
    campaign_id   INTEGER,                              -- debit, refund, adjust: the campaign sent
    claim_id      TEXT,                                 -- debit: the claimed chunk; refund/adjust: its attempt's
    recipient_id  INTEGER,                              -- refund, adjust: whose attempt
    attempt_no    INTEGER,
    note          TEXT    NOT NULL DEFAULT '',
    actor         TEXT    NOT NULL DEFAULT '',          -- topup: who (an email or cli:<user>)
    at            REAL    NOT NULL                      -- Unix seconds
);

CREATE UNIQUE INDEX credit_entries_one_per_claim ON credit_entries (claim_id) WHERE kind = 'debit';
CREATE UNIQUE INDEX credit_entries_one_per_attempt ON credit_entries (recipient_id, attempt_no, kind)
    WHERE recipient_id IS NOT NULL;
CREATE INDEX credit_entries_by_tenant ON credit_entries (tenant_id, entry_id);
CREATE INDEX credit_entries_by_campaign ON credit_entries (campaign_id) WHERE campaign_id IS NOT NULL;

CREATE TABLE credit_accounts (
    tenant_id   INTEGER PRIMARY KEY REFERENCES tenants(tenant_id),
    balance     INTEGER NOT NULL                        -- SMS segments: the sum of the tenant's credit_entries
);

CREATE TRIGGER credit_entries_balance AFTER INSERT ON credit_entries
BEGIN
    INSERT INTO credit_accounts (tenant_id, balance) VALUES (NEW.tenant_id, NEW.segments)
    ON CONFLICT (tenant_id) DO UPDATE SET balance = balance + NEW.segments;
END;

CREATE TRIGGER credit_entries_no_update BEFORE UPDATE ON credit_entries
BEGIN
    SELECT RAISE(ABORT, 'credit entries are append-only');
END;

CREATE TRIGGER credit_entries_no_delete BEFORE DELETE ON credit_entries
BEGIN
    SELECT RAISE(ABORT, 'credit entries are append-only');
END;
