-- Ledger v7: console users and their roles, sign-in sessions, each tenant's access policy, and the audit log
-- (append-only: triggers refuse any UPDATE or DELETE of its rows).

CREATE TABLE users (
    user_id          INTEGER PRIMARY KEY,
    email            TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    role             TEXT    NOT NULL CHECK (role IN ('operator', 'admin', 'analyst')),
    tenant_id        INTEGER REFERENCES tenants(tenant_id),  -- NULL for an operator (every tenant)
    password_hash    TEXT    NOT NULL,                         -- Argon2id, never the password
    disabled         INTEGER NOT NULL DEFAULT 0,
    failed_sign_ins  INTEGER NOT NULL DEFAULT 0,               -- in a row, since the last success or lock
    locked_until     REAL    NOT NULL DEFAULT 0,               -- Unix seconds: sign-ins refused until then
    created_at       TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at       TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CHECK ((role = 'operator') = (tenant_id IS NULL))
);

CREATE TABLE sessions (
    token_sha256  TEXT    PRIMARY KEY,                        -- the session token itself is never stored
    user_id       INTEGER NOT NULL REFERENCES users(user_id),
    created_at    REAL    NOT NULL,
    expires_at    REAL    NOT NULL,
    revoked       INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE tenant_access (
    tenant_id            INTEGER PRIMARY KEY REFERENCES tenants(tenant_id),
    analysts_may_launch  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE audit_log (
    audit_id   INTEGER PRIMARY KEY,
    at         TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    actor      TEXT    NOT NULL,              -- a user's email, `cli:<os user>`, or `system` (Dagster, sensors)
    tenant_id  INTEGER,                       -- NULL: not about one tenant (an operator account, a failed sign-in)
    action     TEXT    NOT NULL,              -- e.g. campaign.launch, suppression.add, user.disable
    object     TEXT    NOT NULL DEFAULT '',   -- what it was done to: `campaign 12`, `+15550100`, `a@b.c`
    detail     TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX audit_by_tenant ON audit_log (tenant_id, audit_id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
