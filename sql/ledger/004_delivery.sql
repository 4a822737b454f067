-- Ledger v4: delivery tracking. Each recipient's delivery state as Twilio reports it (status callbacks, polling by
-- SID), an append-only log of every status report received, and each tenant's public status-callback URL.
-- delivery_status is NULL until Twilio accepted the message; 'unknown' means no final status came within the
-- maximum age of polling. Times are Unix seconds, like the engine's.

ALTER TABLE recipients ADD COLUMN delivery_status TEXT
    CHECK (delivery_status IN ('queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'unknown'));
ALTER TABLE recipients ADD COLUMN delivery_error_code INTEGER;
ALTER TABLE recipients ADD COLUMN delivered_at REAL;
ALTER TABLE recipients ADD COLUMN delivery_checked_at REAL;      -- the last poll of its status (NULL: never)
ALTER TABLE recipients ADD COLUMN delivery_next_check_at REAL;   -- when polling should look at it next

-- "not final, next check due": what the poller selects
CREATE INDEX recipients_delivery_due ON recipients (delivery_next_check_at)
    WHERE delivery_status IN ('queued', 'sending', 'sent');

CREATE TABLE delivery_events (
    event_id      INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL,
    recipient_id  INTEGER,                              -- the recipient the SID belonged to
    sid           TEXT    NOT NULL,
    status        TEXT    NOT NULL,                     -- as Twilio said it (accepted, read, ... kept verbatim)
    error_code    INTEGER,
    source        TEXT    NOT NULL CHECK (source IN ('callback', 'poll')),
    applied       INTEGER NOT NULL DEFAULT 0,           -- 1: it moved the recipient's status forward
    received_at   REAL    NOT NULL,
    raw_json      TEXT    NOT NULL DEFAULT '{}'         -- the callback's form or the fetched fields; never secrets
);

CREATE INDEX delivery_events_by_sid ON delivery_events (tenant_id, sid);

-- Where Twilio posts status callbacks for this tenant (NULL: none, delivery is polled).
ALTER TABLE tenant_credentials ADD COLUMN status_callback_url TEXT;

-- Reports whose SID no recipient owned yet (a callback can outrun the engine's record of the send): adopted later.
CREATE INDEX delivery_events_unmatched ON delivery_events (sid) WHERE recipient_id IS NULL;
