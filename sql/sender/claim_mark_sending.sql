-- Claims recipients with a lease BEFORE any request: a crash leaves them in 'sending' for reconciliation.
UPDATE recipients
SET state = 'sending', claim_id = :claim_id, lease_until = :lease_until, attempt_started_at = :now,
    attempts = attempts + 1, updated_at = :now
WHERE recipient_id IN (SELECT CAST(value AS BIGINT) FROM json_each(:ids)) AND state = 'pending'
RETURNING recipient_id, phone_e164, body, segments, attempts, failures, verify_since
