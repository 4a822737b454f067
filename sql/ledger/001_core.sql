-- Ledger v1: tenants and their settings, encrypted Twilio credentials, templates, the suppression list.
-- Every row belongs to one tenant (0 = a single site).

CREATE TABLE tenants (
    tenant_id            INTEGER PRIMARY KEY,
    name                 TEXT    NOT NULL DEFAULT '',
    default_region       TEXT    NOT NULL DEFAULT 'US',      -- phonenumbers region for national numbers
    rate_limit_per_s     REAL    NOT NULL DEFAULT 10.0,      -- messages per second, per tenant
    max_attempts         INTEGER NOT NULL DEFAULT 3,
    retry_base_seconds   REAL    NOT NULL DEFAULT 120.0,     -- 120 s, then 240 s, ...
    failure_streak_pause INTEGER NOT NULL DEFAULT 50,        -- consecutive failures that auto-pause
    created_at           TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at           TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Twilio credentials: the auth token is Fernet-encrypted (key outside the ledger); nothing else is secret.
CREATE TABLE tenant_credentials (
    tenant_id              INTEGER PRIMARY KEY REFERENCES tenants(tenant_id),
    account_sid            TEXT NOT NULL,
    auth_token_encrypted   BLOB NOT NULL,
    from_number            TEXT,
    messaging_service_sid  TEXT,
    api_base_url           TEXT,                              -- NULL: the environment default / api.twilio.com
    updated_at             TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CHECK (from_number IS NOT NULL OR messaging_service_sid IS NOT NULL)
);

CREATE TABLE templates (
    template_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    INTEGER NOT NULL REFERENCES tenants(tenant_id),
    name         TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    created_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (tenant_id, name)
);

CREATE TABLE suppression (
    tenant_id   INTEGER NOT NULL REFERENCES tenants(tenant_id),
    phone_e164  TEXT    NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    source      TEXT    NOT NULL CHECK (source IN ('manual', 'import', 'provider_opt_out')),
    added_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (tenant_id, phone_e164)
) WITHOUT ROWID;
