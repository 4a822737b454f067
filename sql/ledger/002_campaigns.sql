-- Ledger v2: campaigns, their frozen recipients (one row per recipient, unique phone per campaign) and the
-- attempts log (one row per send attempt). Engine times (due_at, lease_until, started_at...) are Unix seconds.

CREATE TABLE campaigns (
    campaign_id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id             INTEGER NOT NULL REFERENCES tenants(tenant_id),
    name                  TEXT    NOT NULL,
    kind                  TEXT    NOT NULL CHECK (kind IN ('segment', 'manual', 'test')),
    state                 TEXT    NOT NULL DEFAULT 'draft'
                          CHECK (state IN ('draft', 'queued', 'sending', 'paused', 'completed', 'cancelled')),
    audience_json         TEXT    NOT NULL DEFAULT '{}',     -- the AudienceQuery (segment + filters)
    template_body         TEXT    NOT NULL,
    max_attempts          INTEGER NOT NULL,
    retry_base_seconds    REAL    NOT NULL,
    rate_limit_per_s      REAL    NOT NULL,                  -- 0 = no limit
    failure_streak_pause  INTEGER NOT NULL,
    failure_streak        INTEGER NOT NULL DEFAULT 0,        -- consecutive failed attempts, across runs
    generation            INTEGER NOT NULL DEFAULT 0,        -- bumped by launch and resume: a new send run
    pause_reason          TEXT,
    recipient_count       INTEGER NOT NULL DEFAULT 0,
    excluded_json         TEXT    NOT NULL DEFAULT '{}',     -- exclusion counts at snapshot time
    runner_id             TEXT,                              -- the send run that owns the campaign now
    runner_host           TEXT,
    runner_pid            INTEGER,
    runner_lease_until    REAL,
    created_at            TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    launched_at           TEXT,
    finished_at           TEXT,
    updated_at            TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE INDEX campaigns_by_tenant_state ON campaigns (tenant_id, state);

CREATE TABLE recipients (
    recipient_id        INTEGER PRIMARY KEY,
    campaign_id         INTEGER NOT NULL REFERENCES campaigns(campaign_id),
    customer_id         INTEGER,                             -- NULL for typed numbers (manual, test)
    phone_e164          TEXT    NOT NULL,
    full_name           TEXT    NOT NULL DEFAULT '',
    body                TEXT    NOT NULL,                    -- rendered at launch
    segments            INTEGER NOT NULL,
    state               TEXT    NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
    attempts            INTEGER NOT NULL DEFAULT 0,          -- every claim, including ones lost to a crash
    failures            INTEGER NOT NULL DEFAULT 0,          -- failed attempts: counted against max_attempts
    due_at              REAL    NOT NULL DEFAULT 0,
    claim_id            TEXT,
    lease_until         REAL,
    attempt_started_at  REAL,
    verify_since        REAL,                                -- an ambiguous attempt (timeout) to look up first
    sid                 TEXT,
    last_error_code     INTEGER,
    last_error_message  TEXT,
    skip_reason         TEXT,
    sent_at             REAL,
    updated_at          REAL,
    UNIQUE (campaign_id, phone_e164)
);

CREATE INDEX recipients_due ON recipients (campaign_id, state, due_at);

CREATE TABLE attempts (
    attempt_id     INTEGER PRIMARY KEY,
    recipient_id   INTEGER NOT NULL REFERENCES recipients(recipient_id),
    campaign_id    INTEGER NOT NULL,
    attempt_no     INTEGER NOT NULL,
    claim_id       TEXT    NOT NULL,
    started_at     REAL    NOT NULL,
    finished_at    REAL,
    outcome        TEXT,     -- sent | retry | failed | opted_out | paused | recovered_sent | recovered_unsent
    error_code     INTEGER,
    error_message  TEXT,
    http_status    INTEGER,
    sid            TEXT,
    UNIQUE (recipient_id, attempt_no)
);

CREATE INDEX attempts_by_campaign_finished ON attempts (campaign_id, finished_at);
