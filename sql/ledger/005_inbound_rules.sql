-- Ledger v5: inbound opt-outs (STOP/START replies) and the rules on delivery errors.
-- The suppression list learns a fourth source, 'inbound' (a STOP reply), and the SID of the message that made an
-- entry; every change of the list is appended to suppression_changes. Inbound messages are kept append-only; the
-- poller keeps a watermark per tenant and sender. Numbers Twilio reported unknown or unreachable (30005, 30006) are
-- undeliverable for that tenant; re-sends after 30003/30008 keep the previous SID in delivery_resends.

CREATE TABLE suppression_v5 (
    tenant_id   INTEGER NOT NULL REFERENCES tenants(tenant_id),
    phone_e164  TEXT    NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    source      TEXT    NOT NULL CHECK (source IN ('manual', 'import', 'provider_opt_out', 'inbound')),
    added_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    source_sid  TEXT,                                    -- the inbound message (STOP) that added it
    PRIMARY KEY (tenant_id, phone_e164)
) WITHOUT ROWID;

INSERT INTO suppression_v5 (tenant_id, phone_e164, reason, source, added_at)
SELECT tenant_id, phone_e164, reason, source, added_at FROM suppression;

DROP TABLE suppression;

ALTER TABLE suppression_v5 RENAME TO suppression;

-- Every addition and removal, with who made it (manual, import, provider_opt_out, inbound) and why.
CREATE TABLE suppression_changes (
    change_id   INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL,
    phone_e164  TEXT    NOT NULL,
    change      TEXT    NOT NULL CHECK (change IN ('added', 'removed')),
    source      TEXT    NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    source_sid  TEXT,
    changed_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE INDEX suppression_changes_by_phone ON suppression_changes (tenant_id, phone_e164, change_id);

-- Additions are logged whoever inserts (the engine's 21610 path too); removals are logged by the code removing.
CREATE TRIGGER suppression_added AFTER INSERT ON suppression
BEGIN
    INSERT INTO suppression_changes (tenant_id, phone_e164, change, source, reason, source_sid)
    VALUES (NEW.tenant_id, NEW.phone_e164, 'added', NEW.source, NEW.reason, NEW.source_sid);
END;

CREATE TABLE inbound_messages (
    inbound_id   INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL,
    sid          TEXT    NOT NULL,
    from_number  TEXT    NOT NULL,
    to_number    TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    keyword      TEXT,                                  -- the opt-out/opt-in keyword the body is, else NULL
    outcome      TEXT    NOT NULL,                      -- opted_out, already_suppressed, opted_in, kept_suppressed,
                                                        -- not_suppressed, superseded, not_a_keyword, invalid_number
    source       TEXT    NOT NULL CHECK (source IN ('callback', 'poll')),
    date_sent    REAL,                                  -- Twilio's date_sent, Unix seconds
    received_at  REAL    NOT NULL,
    raw_json     TEXT    NOT NULL DEFAULT '{}',         -- the webhook's form or the listed fields; never secrets
    UNIQUE (tenant_id, sid)
);

CREATE INDEX inbound_messages_by_number ON inbound_messages (tenant_id, from_number, date_sent);

-- How far the poller has read each sender's inbound messages (it lists again from a margin before it).
CREATE TABLE inbound_cursors (
    tenant_id   INTEGER NOT NULL,
    sender      TEXT    NOT NULL,
    watermark   REAL    NOT NULL,                       -- the latest date_sent seen, Unix seconds
    listed_at   REAL    NOT NULL,
    PRIMARY KEY (tenant_id, sender)
) WITHOUT ROWID;

CREATE TABLE undeliverable_numbers (
    tenant_id   INTEGER NOT NULL,
    phone_e164  TEXT    NOT NULL,
    error_code  INTEGER NOT NULL,
    source_sid  TEXT    NOT NULL,                       -- the message whose report said so
    marked_at   REAL    NOT NULL,
    PRIMARY KEY (tenant_id, phone_e164)
) WITHOUT ROWID;

CREATE TABLE delivery_resends (
    resend_id            INTEGER PRIMARY KEY,
    tenant_id            INTEGER NOT NULL,
    campaign_id          INTEGER NOT NULL,
    recipient_id         INTEGER NOT NULL REFERENCES recipients(recipient_id),
    resend_no            INTEGER NOT NULL,              -- 1 for the first re-send of this recipient
    previous_sid         TEXT    NOT NULL,              -- stays the recipient's: no lookup may take it for another
    previous_status      TEXT    NOT NULL,
    previous_error_code  INTEGER,
    previous_sent_at     REAL,
    requested_at         REAL    NOT NULL,
    UNIQUE (recipient_id, resend_no)
);

CREATE INDEX delivery_resends_by_sid ON delivery_resends (previous_sid);

-- Per tenant: re-sends after 30003/30008 (0 = off) and the carrier-filtering (30007) share that pauses a campaign.
CREATE TABLE delivery_rules (
    tenant_id                INTEGER PRIMARY KEY,
    resend_max               INTEGER NOT NULL DEFAULT 0 CHECK (resend_max >= 0),
    resend_delay_s           REAL    NOT NULL DEFAULT 900 CHECK (resend_delay_s >= 0),
    filtered_pause_share     REAL    NOT NULL DEFAULT 0.05 CHECK (filtered_pause_share > 0 AND filtered_pause_share <= 1),
    filtered_pause_min_final INTEGER NOT NULL DEFAULT 20 CHECK (filtered_pause_min_final >= 1),
    updated_at               TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
