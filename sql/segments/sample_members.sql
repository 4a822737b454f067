-- A preview's sample as picked by preview.sql ($customer_ids ascending, $anchor_ids in the same order, NULL without an
-- anchor) with its details, like anchored.sql, in the order of audience.RECIPIENT_COLUMNS. Customers and appointments
-- are read through constant filters (the tenant, the id range and the ids), so DuckDB reads only the few row groups and
-- vectors that hold them: a join with the whole tenant's rows cost more than the rest of the preview (BENCHMARKS.md).
WITH picked AS (
    SELECT unnest($customer_ids::INTEGER[]) AS customer_id, unnest($anchor_ids::INTEGER[]) AS anchor_appointment_id
),
picked_customers AS (
    SELECT * FROM customers
    WHERE tenant_id = $tenant_id AND customer_id BETWEEN $first_id AND $last_id
      AND list_contains($customer_ids::INTEGER[], customer_id)
),
picked_appointments AS (
    SELECT * FROM appointments
    WHERE tenant_id = $tenant_id AND customer_id BETWEEN $first_id AND $last_id
      AND list_contains($anchor_ids::INTEGER[], appointment_id)
)
SELECT c.customer_id, c.first_name, c.last_name, c.full_name, c.phone_e164, c.email,
       a.appointment_id AS anchor_appointment_id, a.starts_at AS anchor_starts_at, a.ends_at AS anchor_ends_at,
       a.status AS anchor_status,
       sv.name AS service_name, sv.price AS service_price, sv.duration AS service_duration,
       st.name AS staff_name, st.phone_number AS staff_phone,
       lo.name AS location_name, lo.address AS location_address,
       nullif(a.client_timezone, '') AS client_timezone,
       CASE WHEN len(c.phone_zones) = 1 THEN c.phone_zones[1] END AS phone_zone
FROM picked AS p
JOIN picked_customers AS c ON c.customer_id = p.customer_id
LEFT JOIN picked_appointments AS a ON a.customer_id = p.customer_id AND a.appointment_id = p.anchor_appointment_id
LEFT JOIN services AS sv ON sv.tenant_id = $tenant_id AND sv.service_id = a.service_id
LEFT JOIN staff AS st ON st.tenant_id = $tenant_id AND st.staff_id = a.staff_id
LEFT JOIN locations AS lo ON lo.tenant_id = $tenant_id AND lo.location_id = a.location_id
ORDER BY c.customer_id
