-- One campaign's final delivery outcomes, and how many of them are carrier filtering (30007).
SELECT count(*) AS final,
       coalesce(sum(CASE WHEN delivery_error_code = 30007 THEN 1 ELSE 0 END), 0) AS filtered
FROM recipients
WHERE campaign_id = :campaign_id AND delivery_status IN ('delivered', 'undelivered', 'failed')
