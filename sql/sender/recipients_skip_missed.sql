-- A campaign that missed its schedule: its unsent recipients become skipped ('missed_schedule').
UPDATE recipients
SET state = 'skipped', skip_reason = 'missed_schedule', updated_at = :now
WHERE campaign_id = :campaign_id AND state = 'pending'
