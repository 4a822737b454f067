-- PostgreSQL variant of sql/sender/gate_recipients.sql: json_each is json_array_elements_text.
-- The claimed recipients the gates look at: still pending (not skipped as suppressed), with their number and zone.
SELECT recipient_id, phone_e164, timezone
FROM recipients
WHERE recipient_id IN (SELECT value::bigint FROM json_array_elements_text(CAST(:ids AS json))) AND state = 'pending'
