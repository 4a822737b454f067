-- Records one attempt's result on its recipient (only while the recipient is still held by that claim).
-- A recipient that becomes `sent` starts its delivery tracking at `queued` (what Twilio answers a create with:
-- queued, or accepted for a Messaging Service) unless a status callback already said more; first poll in 10 s.
UPDATE recipients
SET state = :state, failures = :failures, due_at = :due_at, claim_id = NULL, lease_until = NULL,
    verify_since = :verify_since, sid = coalesce(:sid, sid),
    last_error_code = coalesce(:error_code, last_error_code),
    last_error_message = coalesce(:error_message, last_error_message),
    skip_reason = :skip_reason, sent_at = :sent_at, updated_at = :now,
    delivery_status = CASE WHEN :state = 'sent' THEN coalesce(delivery_status, 'queued') ELSE delivery_status END,
    delivery_next_check_at = CASE WHEN :state = 'sent' THEN coalesce(delivery_next_check_at, :now + 10)
                                  ELSE delivery_next_check_at END
WHERE recipient_id = :recipient_id AND claim_id = :claim_id
