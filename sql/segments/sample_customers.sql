-- A preview's sample customers ($customer_ids, picked by preview.sql) with their names and phone, read through
-- constant filters (the tenant, the id range and the ids), so DuckDB reads only the few row groups and vectors
-- that hold them. `phone_zone` as in anchored.sql. The anchors' details: sample_anchors.sql; the preview pairs
-- them (audience._sample_details): two statements without joins cost about half of one joining both.
SELECT customer_id, first_name, last_name, full_name, phone_e164, email,
       CASE WHEN len(phone_zones) = 1 THEN phone_zones[1] END AS phone_zone
FROM customers
WHERE tenant_id = $tenant_id AND customer_id BETWEEN $first_id AND $last_id
  AND list_contains($customer_ids::INTEGER[], customer_id)
