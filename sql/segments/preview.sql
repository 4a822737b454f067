-- A preview in one pass over `classified_members`, as groups of members: one per exclusion reason, and the recipients
-- (exclusion NULL) split by what the quiet hours look at (the anchor appointment's client timezone, as its number in
-- the tenant's client_timezones, whose names the preview reads once per warehouse file, and the number's zone set:
-- customer_facts.zone_set, whose zones and Florida/Oklahoma flag come from zone_sets for the few groups). Per
-- group: its members, those whose number is on the suppression list (for recipients: skipped at send time when the
-- query does not exclude the list), its first $sample members by customer id with their anchor appointment (0: none;
-- the preview takes the first $sample of all recipient groups, their details: sample_customers.sql,
-- sample_anchors.sql and sample_directory.sql), and the numbers of the recipients a frequency cap applies to
-- ($capped_numbers: 'every', 'strict_state', or NULL for none) as phone_key digits, whose messages the ledger counts.
-- One grouping by small values replaces a counting pass and a zones pass over the members (which made DuckDB
-- materialize them).
SELECT g.exclusion, g.timezone_id, z.phone_zones, coalesce(z.strict_state, false) AS strict_state, g.members,
       g.on_list, g.sample_ids, g.sample_anchors,
       CASE WHEN $capped_numbers::VARCHAR = 'every' OR ($capped_numbers::VARCHAR = 'strict_state' AND z.strict_state)
            THEN g.phone_keys END AS counted
FROM (
    SELECT exclusion,
           CASE WHEN exclusion IS NULL THEN anchor_timezone_id END           AS timezone_id,
           CASE WHEN exclusion IS NULL THEN zone_set END                    AS zone_set,
           count(*)                                                         AS members,
           count(*) FILTER (WHERE listed)                                   AS on_list,
           min(customer_id, $sample) FILTER (WHERE exclusion IS NULL)       AS sample_ids,
           min_by(coalesce(anchor_appointment_id, 0), customer_id, $sample) FILTER (WHERE exclusion IS NULL)
                                                                            AS sample_anchors,
           list(phone_key) FILTER (WHERE exclusion IS NULL AND $capped_numbers::VARCHAR IS NOT NULL) AS phone_keys
    FROM classified_members
    GROUP BY ALL
) AS g
LEFT JOIN zone_sets AS z ON z.zone_set = g.zone_set
