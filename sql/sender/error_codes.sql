-- A campaign's failed attempts by Twilio error code (0: no answer from Twilio).
SELECT coalesce(error_code, 0) AS error_code, count(*) AS attempts
FROM attempts
WHERE campaign_id = :campaign_id AND outcome IN ('retry', 'ambiguous', 'throttled', 'failed', 'opted_out', 'pause')
GROUP BY coalesce(error_code, 0)
ORDER BY attempts DESC
