-- A campaign's recipients by state (and skip reason), with their SMS segments.
SELECT state, coalesce(skip_reason, '') AS skip_reason, count(*) AS recipients, sum(segments) AS segments
FROM recipients
WHERE campaign_id = :campaign_id
GROUP BY state, skip_reason
