-- One attempts-log row per claimed recipient, started now.
INSERT INTO attempts (recipient_id, campaign_id, attempt_no, claim_id, started_at)
SELECT recipient_id, campaign_id, attempts, claim_id, attempt_started_at
FROM recipients
WHERE recipient_id IN (SELECT CAST(value AS BIGINT) FROM json_each(:ids)) AND claim_id = :claim_id
