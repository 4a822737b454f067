-- The segments a campaign's unsent recipients need (its estimate at launch or resume).
SELECT coalesce(sum(segments), 0) AS segments, count(*) AS recipients
FROM recipients WHERE campaign_id = :campaign_id AND state = 'pending'
