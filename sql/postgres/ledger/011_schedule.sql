-- Ledger v11 on PostgreSQL: scheduled sends and the tenant's time zone (see sql/ledger/011_schedule.sql).

ALTER TABLE campaigns ADD COLUMN send_at DOUBLE PRECISION;
ALTER TABLE campaigns ADD COLUMN max_lateness_s DOUBLE PRECISION;
ALTER TABLE campaigns ADD COLUMN freeze_at TEXT NOT NULL DEFAULT 'send' CHECK (freeze_at IN ('send', 'schedule'));
ALTER TABLE campaigns ADD COLUMN freeze_pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN first_run_at DOUBLE PRECISION;

ALTER TABLE tenants ADD COLUMN timezone TEXT;
