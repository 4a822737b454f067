-- Ledger v3 on PostgreSQL: the senders' shared pacing (see sql/ledger/003_senders.sql).

CREATE TABLE senders (
    tenant_id         INTEGER NOT NULL REFERENCES tenants(tenant_id),
    sender            TEXT    NOT NULL,
    throughput_per_s  DOUBLE PRECISION,
    next_slot         DOUBLE PRECISION NOT NULL DEFAULT 0,
    throttled_until   DOUBLE PRECISION NOT NULL DEFAULT 0,
    throttle_streak   INTEGER NOT NULL DEFAULT 0,
    updated_at        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (tenant_id, sender)
);

CREATE INDEX recipients_by_sid ON recipients (sid) WHERE sid IS NOT NULL;
