-- Ledger v11: scheduled sends and the tenant's time zone. A scheduled campaign is queued with its send time and is
-- not sent before it, nor after it plus its max lateness (then it is cancelled as missed_schedule, with the times).
-- Times are Unix seconds, like the engine's.

ALTER TABLE campaigns ADD COLUMN send_at REAL;                    -- NULL: sent as soon as it is queued
ALTER TABLE campaigns ADD COLUMN max_lateness_s REAL;             -- NULL: no limit (--max-lateness off)
ALTER TABLE campaigns ADD COLUMN freeze_at TEXT NOT NULL DEFAULT 'send'
    CHECK (freeze_at IN ('send', 'schedule'));                    -- when a scheduled campaign's audience is frozen
ALTER TABLE campaigns ADD COLUMN freeze_pending INTEGER NOT NULL DEFAULT 0;  -- 1: queued, audience not frozen yet
ALTER TABLE campaigns ADD COLUMN first_run_at REAL;               -- the first send run's start (lateness no longer
                                                                  -- applies: a resume continues it)

-- IANA zone name (America/New_York); NULL: not set (a naive --send-at is refused).
ALTER TABLE tenants ADD COLUMN timezone TEXT;
