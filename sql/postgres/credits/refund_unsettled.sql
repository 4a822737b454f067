-- PostgreSQL variant of sql/credits/refund_unsettled.sql: INSERT OR IGNORE is ON CONFLICT DO NOTHING.
-- A lookup settled a recipient: the reservations its earlier attempts kept while they might have reached Twilio (no
-- answer, a 5xx, a crash) are refunded; the settling attempt's own reservation pays for the one message, if any.
INSERT INTO credit_entries (tenant_id, kind, segments, campaign_id, claim_id, recipient_id, attempt_no, at)
SELECT d.tenant_id, 'refund', r.segments, d.campaign_id, d.claim_id, r.recipient_id, a.attempt_no, :now
FROM attempts AS a
JOIN recipients AS r ON r.recipient_id = a.recipient_id
JOIN credit_entries AS d ON d.kind = 'debit' AND d.claim_id = a.claim_id
WHERE a.recipient_id = :recipient_id AND a.attempt_no < :attempt_no
  AND a.outcome IN ('interrupted', 'ambiguous', 'error')
ON CONFLICT DO NOTHING
