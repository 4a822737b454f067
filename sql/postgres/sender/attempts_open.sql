-- PostgreSQL variant of sql/sender/attempts_open.sql: json_each is json_array_elements_text.
-- One attempts-log row per claimed recipient, started now.
INSERT INTO attempts (recipient_id, campaign_id, attempt_no, claim_id, started_at)
SELECT recipient_id, campaign_id, attempts, claim_id, attempt_started_at
FROM recipients
WHERE recipient_id IN (SELECT value::bigint FROM json_array_elements_text(CAST(:ids AS json))) AND claim_id = :claim_id
