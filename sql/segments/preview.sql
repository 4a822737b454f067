-- A preview's counts in one pass over `classified_members`: recipients, members per exclusion reason, the
-- recipients whose number is on the suppression list (when the query does not exclude it: skipped at send time),
-- and the first $sample recipients by customer id with their anchor appointment (0: none), in the same order
-- (their details: sample_members.sql). Two top-n aggregates of integers cost less than one of structs. In the
-- same statement (so the members are found once), the recipients' zone groups (`recipient_zones`, a list).
SELECT counts.*, groups.zone_groups
FROM (
    SELECT count(*) FILTER (WHERE exclusion IS NULL)             AS recipients,
           count(*) FILTER (WHERE exclusion = 'no_phone')        AS no_phone,
           count(*) FILTER (WHERE exclusion = 'invalid_phone')   AS invalid_phone,
           count(*) FILTER (WHERE exclusion = 'duplicate_phone') AS duplicate_phone,
           count(*) FILTER (WHERE exclusion = 'suppressed')      AS suppressed,
           count(*) FILTER (WHERE exclusion = 'undeliverable')   AS undeliverable,
           count(*) FILTER (WHERE exclusion IS NULL AND listed)  AS on_list,
           min(customer_id, $sample) FILTER (WHERE exclusion IS NULL) AS sample_ids,
           min_by(coalesce(anchor_appointment_id, 0), customer_id, $sample) FILTER (WHERE exclusion IS NULL)
                                                                 AS sample_anchors
    FROM classified_members
) AS counts
CROSS JOIN (SELECT list(z) AS zone_groups FROM recipient_zones AS z) AS groups
