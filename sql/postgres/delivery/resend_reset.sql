-- PostgreSQL variant of sql/delivery/resend_reset.sql: a recipient row another transaction has locked is skipped,
-- not waited for (the next poll takes it), so a re-send, which holds its campaigns' locks by then, never waits in a
-- circle with a transaction that locked the recipient first and waits for its campaign.
-- Puts a recipient back to be sent again now: pending, its delivery state cleared (the previous message is kept in
-- delivery_resends and attempts). Only while it still holds the message the re-send was decided on.
UPDATE recipients
SET state = 'pending', due_at = :now, sid = NULL, sent_at = NULL, verify_since = NULL, claim_id = NULL,
    lease_until = NULL, delivery_status = NULL, delivery_error_code = NULL, delivered_at = NULL,
    delivery_checked_at = NULL, delivery_next_check_at = NULL, updated_at = :now
WHERE recipient_id = (SELECT recipient_id FROM recipients
                      WHERE recipient_id = :recipient_id AND state = 'sent' AND sid = :previous_sid
                      FOR NO KEY UPDATE SKIP LOCKED)
