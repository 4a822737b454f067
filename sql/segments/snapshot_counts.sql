-- A snapshot's members per exclusion reason (NULL = recipients), from the temporary table `snapshot_members`.
SELECT exclusion, count(*) AS members FROM snapshot_members GROUP BY exclusion
