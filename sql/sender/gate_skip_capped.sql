-- A recipient whose number has had its cap of messages is skipped (the campaign's on_cap is skip).
UPDATE recipients
SET state = 'skipped', skip_reason = 'frequency_cap', updated_at = :now
WHERE recipient_id = :recipient_id AND state = 'pending'
