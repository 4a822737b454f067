-- The members of a definition that groups the filtered appointments (`appointment_members`: tenant_id,
-- customer_id, anchor_appointment_id, anchor_timezone_id) with their phone as audiences classify it. Definitions
-- reading narrowed_customers carry these columns themselves: joining customer_facts back to a set read from it
-- was a third of an all_customers preview (BENCHMARKS.md).
SELECT m.tenant_id, m.customer_id, m.anchor_appointment_id, m.anchor_timezone_id, f.phone_key, f.phone_exclusion,
       f.phone_shared, f.zone_set
FROM appointment_members AS m
JOIN customer_facts AS f ON f.tenant_id = m.tenant_id AND f.customer_id = m.customer_id
