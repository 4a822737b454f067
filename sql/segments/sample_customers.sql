-- A preview's sample customers ($customer_ids, picked by preview.sql) with their names and phone, as one list, read
-- through constant filters (the tenant, the id range [$first_id, $last_id] and the ids), so DuckDB reads only the
-- few row groups and vectors that hold them. Fields: customer_id, first_name, last_name, full_name, phone_e164,
-- email, phone_zone (as in anchored.sql). With their anchors (sample_anchors.sql) it is one statement of two
-- uncorrelated lists (audience._sample_sql): one statement to plan instead of two, and no join (joining the
-- customers to their anchors, or the anchors to services, staff and locations, costs more to plan than it saves).
SELECT list((customer_id, first_name, last_name, full_name, phone_e164, email,
             CASE WHEN len(phone_zones) = 1 THEN phone_zones[1] END))
FROM customers
WHERE tenant_id = $tenant_id AND customer_id BETWEEN $first_id AND $last_id
  AND list_contains($customer_ids::INTEGER[], customer_id)
