-- Records one attempt's result on its recipient (only while the recipient is still held by that claim).
UPDATE recipients
SET state = :state, failures = :failures, due_at = :due_at, claim_id = NULL, lease_until = NULL,
    verify_since = :verify_since, sid = coalesce(:sid, sid),
    last_error_code = coalesce(:error_code, last_error_code),
    last_error_message = coalesce(:error_message, last_error_message),
    skip_reason = :skip_reason, sent_at = :sent_at, updated_at = :now
WHERE recipient_id = :recipient_id AND claim_id = :claim_id
