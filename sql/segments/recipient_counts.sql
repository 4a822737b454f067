-- Members per exclusion reason (NULL = recipients), for a preview.
SELECT exclusion, count(*) AS members
FROM segment_recipients
GROUP BY exclusion
