-- Puts a recipient back to be sent again now: pending, its delivery state cleared (the previous message is kept in
-- delivery_resends and attempts). Only while it still holds the message the re-send was decided on.
UPDATE recipients
SET state = 'pending', due_at = :now, sid = NULL, sent_at = NULL, verify_since = NULL, claim_id = NULL,
    lease_until = NULL, delivery_status = NULL, delivery_error_code = NULL, delivered_at = NULL,
    delivery_checked_at = NULL, delivery_next_check_at = NULL, updated_at = :now
WHERE recipient_id = :recipient_id AND state = 'sent' AND sid = :previous_sid
