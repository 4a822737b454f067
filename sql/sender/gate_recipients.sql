-- The claimed recipients the gates look at: still pending (not skipped as suppressed), with their number and zone.
SELECT recipient_id, phone_e164, timezone
FROM recipients
WHERE recipient_id IN (SELECT CAST(value AS BIGINT) FROM json_each(:ids)) AND state = 'pending'
