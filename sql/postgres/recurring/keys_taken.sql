-- PostgreSQL variant of sql/recurring/keys_taken.sql: json_each is json_array_elements_text.
-- Which of these anchor keys an earlier occurrence of the definition already has, its recipient not failed or
-- skipped (those may be tried again by a later occurrence).
SELECT k.anchor_key
FROM recurring_sent_keys AS k
LEFT JOIN recipients AS r ON r.campaign_id = k.campaign_id AND r.phone_e164 = k.phone_e164
WHERE k.recurring_id = :recurring_id
  AND k.anchor_key IN (SELECT value FROM json_array_elements_text(CAST(:keys AS json)))
  AND k.campaign_id != :campaign_id
  AND (r.state IS NULL OR r.state NOT IN ('failed', 'skipped'))
