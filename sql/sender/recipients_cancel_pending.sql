-- A cancelled campaign's unsent recipients become skipped ('cancelled').
UPDATE recipients
SET state = 'skipped', skip_reason = 'cancelled', updated_at = :now
WHERE campaign_id = :campaign_id AND state = 'pending'
