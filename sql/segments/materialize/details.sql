-- The body of a materialized segment's view (`segment_<name>`): the rows of its members table
-- (`selected_members`) with the details anchored.sql gives them (names and phone, the anchor appointment with
-- its service, staff and location), read from the warehouse tables; in (tenant, customer id) order. The same
-- columns and, as of the materialization, the same rows as anchored.sql; a member a later sync removed keeps its
-- row (LEFT JOIN), with empty details.
SELECT m.tenant_id, m.customer_id, c.first_name, c.last_name, c.full_name, c.phone_e164, c.email,
       m.anchor_appointment_id, a.starts_at AS anchor_starts_at, a.ends_at AS anchor_ends_at,
       a.status AS anchor_status, nullif(a.client_timezone, '') AS client_timezone,
       CASE WHEN len(c.phone_zones) = 1 THEN c.phone_zones[1] END AS phone_zone,
       sv.name AS service_name, sv.price AS service_price, sv.duration AS service_duration,
       st.name AS staff_name, st.phone_number AS staff_phone,
       lo.name AS location_name, lo.address AS location_address,
       m.exclusion, m.as_of
FROM selected_members AS m
LEFT JOIN customers AS c ON c.tenant_id = m.tenant_id AND c.customer_id = m.customer_id
LEFT JOIN appointments AS a
       ON a.tenant_id = m.tenant_id AND a.customer_id = m.customer_id AND a.appointment_id = m.anchor_appointment_id
LEFT JOIN services AS sv ON sv.tenant_id = m.tenant_id AND sv.service_id = a.service_id
LEFT JOIN staff AS st ON st.tenant_id = m.tenant_id AND st.staff_id = a.staff_id
LEFT JOIN locations AS lo ON lo.tenant_id = m.tenant_id AND lo.location_id = a.location_id
ORDER BY m.tenant_id, m.customer_id
