-- Ledger v3: the senders' shared pacing (every run and process of a tenant takes its send slots here) and an
-- index for "is this SID already some recipient's" (the lookup after an ambiguous attempt).

CREATE TABLE senders (
    tenant_id         INTEGER NOT NULL REFERENCES tenants(tenant_id),
    sender            TEXT    NOT NULL,               -- the From number or the Messaging Service SID
    throughput_per_s  REAL,                           -- SMS segments per second; NULL: the sender type's default
    next_slot         REAL    NOT NULL DEFAULT 0,     -- Unix seconds: the first free send slot
    throttled_until   REAL    NOT NULL DEFAULT 0,     -- Unix seconds: Twilio asked the sender to wait until then
    throttle_streak   INTEGER NOT NULL DEFAULT 0,     -- throttles in a row, for the back-off without Retry-After
    updated_at        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (tenant_id, sender)
) WITHOUT ROWID;

CREATE INDEX recipients_by_sid ON recipients (sid) WHERE sid IS NOT NULL;
