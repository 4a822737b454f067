-- A poll looked at this recipient: when, and when to look next (NULL once its status is final). The parameter is
-- typed: PostgreSQL reads a CASE whose only value is a NULL parameter as text.
UPDATE recipients
SET delivery_checked_at = :now,
    delivery_next_check_at = CASE WHEN delivery_status IN ('queued', 'sending', 'sent')
                                  THEN CAST(:next_check_at AS DOUBLE PRECISION) END
WHERE recipient_id = :recipient_id
