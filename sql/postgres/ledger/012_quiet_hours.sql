-- Ledger v12 on PostgreSQL: quiet hours and the frequency cap, checked at claim time (see
-- sql/ledger/012_quiet_hours.sql).

ALTER TABLE tenants ADD COLUMN quiet_hours TEXT;
ALTER TABLE tenants ADD COLUMN state_rules INTEGER CHECK (state_rules IN (0, 1));
ALTER TABLE tenants ADD COLUMN frequency_cap TEXT NOT NULL DEFAULT 'off';

ALTER TABLE campaigns ADD COLUMN quiet_hours TEXT;
ALTER TABLE campaigns ADD COLUMN on_cap TEXT NOT NULL DEFAULT 'skip' CHECK (on_cap IN ('skip', 'defer'));

ALTER TABLE recipients ADD COLUMN timezone TEXT;
ALTER TABLE recipients ADD COLUMN deferred_reason TEXT;

CREATE INDEX recipients_by_phone ON recipients (phone_e164, sent_at);
