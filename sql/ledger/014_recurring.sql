-- Ledger v14: recurring campaigns. A definition (a cron in a time zone, an audience, a template) makes one campaign
-- per occurrence, queued for the occurrence's time with its audience frozen then (as of that time); the Dagster sensor
-- recurring_campaigns_sensor creates them and starts one send run each. recurring_sent_keys remembers, per
-- definition, whom each appointment (or, for segments without one, each customer) was frozen for: nobody is
-- messaged twice for the same appointment across occurrences (unless its earlier recipient failed or was skipped).
-- Times are Unix seconds, like the engine's.

CREATE TABLE recurring_campaigns (
    recurring_id    INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants(tenant_id),
    name            TEXT    NOT NULL,
    cron            TEXT    NOT NULL,                    -- five fields, in `timezone` (Dagster's cron semantics)
    timezone        TEXT    NOT NULL,                    -- IANA name
    audience_json   TEXT    NOT NULL,                    -- segment, parameter and filters; as_of: each occurrence
    template_body   TEXT    NOT NULL,
    max_lateness_s  REAL,                                -- an occurrence not created within this is skipped (NULL: any)
    state           TEXT    NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused', 'removed')),
    created_by      TEXT    NOT NULL DEFAULT '',
    created_at      REAL    NOT NULL,
    evaluated_at    REAL    NOT NULL,                    -- occurrences up to this instant are done (made or skipped)
    updated_at      REAL    NOT NULL
);

CREATE INDEX recurring_campaigns_by_tenant ON recurring_campaigns (tenant_id, recurring_id);

CREATE TABLE recurring_occurrences (
    recurring_id   INTEGER NOT NULL REFERENCES recurring_campaigns(recurring_id),
    occurrence_at  REAL    NOT NULL,
    campaign_id    INTEGER NOT NULL UNIQUE REFERENCES campaigns(campaign_id),
    PRIMARY KEY (recurring_id, occurrence_at)
);

CREATE TABLE recurring_sent_keys (
    recurring_id  INTEGER NOT NULL REFERENCES recurring_campaigns(recurring_id),
    anchor_key    TEXT    NOT NULL,                      -- 'appointment:<id>', or 'customer:<id>' without an anchor
    campaign_id   INTEGER NOT NULL,                      -- the occurrence that has it, with phone_e164 its recipient
    phone_e164    TEXT    NOT NULL,
    PRIMARY KEY (recurring_id, anchor_key)
) WITHOUT ROWID;

CREATE INDEX recurring_sent_keys_by_campaign ON recurring_sent_keys (campaign_id);
