-- PostgreSQL variant of sql/sender/stranded_to_verify.sql: two-argument min/max are least/greatest.
-- Recipients a dead run left in 'sending' become pending "to verify": they are looked up in Twilio's message list
-- before any resend, from the earliest ambiguous attempt on (verify_since survives any number of crashes), and
-- not before the lease is over and the list has settled (:settle_s).
UPDATE recipients
SET state = 'pending',
    verify_since = least(coalesce(verify_since, attempt_started_at), attempt_started_at),
    due_at = greatest(due_at, coalesce(lease_until, :now) + :settle_s),
    claim_id = NULL, lease_until = NULL, updated_at = :now
WHERE campaign_id = :campaign_id AND state = 'sending'
RETURNING recipient_id, attempts
