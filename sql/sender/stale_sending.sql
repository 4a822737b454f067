-- Recipients left in 'sending' by an earlier run (the caller owns the campaign, so that run is gone).
SELECT recipient_id, phone_e164, body, attempts, failures, attempt_started_at, claim_id, lease_until
FROM recipients
WHERE campaign_id = :campaign_id AND state = 'sending'
ORDER BY recipient_id
