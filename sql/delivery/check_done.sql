-- A poll looked at this recipient: when, and when to look next (NULL once its status is final).
UPDATE recipients
SET delivery_checked_at = :now,
    delivery_next_check_at = CASE WHEN delivery_status IN ('queued', 'sending', 'sent') THEN :next_check_at END
WHERE recipient_id = :recipient_id
