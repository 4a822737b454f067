-- PostgreSQL variant of sql/credits/attempt_credit.sql: INSERT OR IGNORE is ON CONFLICT DO NOTHING.
-- Gives back part or all of one attempt's reservation (kind refund, or adjust to Twilio's own segment count), only
-- while the recipient is still held by the attempt's claim (a run that lost it to another changes nothing) and
-- once per attempt and kind.
INSERT INTO credit_entries (tenant_id, kind, segments, campaign_id, claim_id, recipient_id, attempt_no, at)
SELECT d.tenant_id, :kind, :segments, d.campaign_id, d.claim_id, r.recipient_id, :attempt_no, :now
FROM recipients AS r
JOIN credit_entries AS d ON d.kind = 'debit' AND d.claim_id = :claim_id
WHERE r.recipient_id = :recipient_id AND r.claim_id = :claim_id
ON CONFLICT DO NOTHING
