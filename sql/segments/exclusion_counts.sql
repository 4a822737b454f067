-- Members per exclusion reason (NULL = recipients), for a preview.
SELECT exclusion, count(*) AS members
FROM classified_members
GROUP BY exclusion
