-- Ledger v12: quiet hours in the recipient's local time and a frequency cap across campaigns, checked at claim
-- time (orchestration/sender/gates.py). A recipient held back is deferred (its due_at moved, the reason kept) or
-- skipped as frequency_cap; never dropped silently.

-- The sending window in the recipient's local time ('off': any hour); Florida and Oklahoma rules (08:00-20:00 and
-- at most 3 messages in 24 h to their numbers) while state_rules is 1; the frequency cap 'N/period' ('3/7d') or off.
-- NULL window / state rules: the default (08:00-21:00 and on; $BKNTC_SMS_DEFAULT_QUIET_HOURS=off turns both off).
ALTER TABLE tenants ADD COLUMN quiet_hours TEXT;
ALTER TABLE tenants ADD COLUMN state_rules INTEGER CHECK (state_rules IN (0, 1));
ALTER TABLE tenants ADD COLUMN frequency_cap TEXT NOT NULL DEFAULT 'off';

-- A campaign's own window (NULL: the tenant's, read at send time) and what a capped recipient gets.
ALTER TABLE campaigns ADD COLUMN quiet_hours TEXT;
ALTER TABLE campaigns ADD COLUMN on_cap TEXT NOT NULL DEFAULT 'skip' CHECK (on_cap IN ('skip', 'defer'));

-- The recipient's own zone, resolved at freeze: the anchor appointment's client timezone, else the number's zone
-- when it names exactly one; NULL: the tenant's zone at send time.
ALTER TABLE recipients ADD COLUMN timezone TEXT;
-- Why its due_at was last moved by a gate (quiet_hours | frequency_cap); NULL: never held back.
ALTER TABLE recipients ADD COLUMN deferred_reason TEXT;

-- The frequency cap counts a number's recent messages across every campaign of the tenant.
CREATE INDEX recipients_by_phone ON recipients (phone_e164, sent_at);
