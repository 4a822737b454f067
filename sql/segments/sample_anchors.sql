-- The anchor appointments of a preview's sample ($anchor_ids, of the customers in [$first_id, $last_id]) with
-- their service, staff and location, as anchored.sql details them; read through constant filters like
-- sample_customers.sql. An anchor is its member's own appointment: the preview pairs it by customer too. After
-- the two ids, the columns are those of audience.RECIPIENT_COLUMNS from anchor_starts_at to client_timezone.
SELECT a.appointment_id, a.customer_id, a.starts_at, a.ends_at, a.status,
       sv.name AS service_name, sv.price::DOUBLE AS service_price, sv.duration AS service_duration,
       st.name AS staff_name, st.phone_number AS staff_phone,
       lo.name AS location_name, lo.address AS location_address,
       nullif(a.client_timezone, '') AS client_timezone
FROM appointments AS a
LEFT JOIN services AS sv ON sv.tenant_id = $tenant_id AND sv.service_id = a.service_id
LEFT JOIN staff AS st ON st.tenant_id = $tenant_id AND st.staff_id = a.staff_id
LEFT JOIN locations AS lo ON lo.tenant_id = $tenant_id AND lo.location_id = a.location_id
WHERE a.tenant_id = $tenant_id AND a.customer_id BETWEEN $first_id AND $last_id
  AND list_contains($anchor_ids::INTEGER[], a.appointment_id)
