-- all_customers: every customer of the tenant, including those without appointments, when no appointment
-- filter is set; with a filter (services, locations, statuses, minimum count), the customers having at least
-- one appointment (and the minimum count) in the filtered set. No anchor.
SELECT c.tenant_id, c.customer_id, NULL::INTEGER AS anchor_appointment_id
FROM customers AS c
WHERE list_contains($tenant_ids::INTEGER[], c.tenant_id)
  AND len($service_ids::INTEGER[]) + len($location_ids::INTEGER[]) + len($statuses::VARCHAR[]) = 0
  AND $min_appointments::INTEGER IS NULL
UNION ALL
SELECT tenant_id, customer_id, NULL::INTEGER AS anchor_appointment_id
FROM filtered_appointments
WHERE len($service_ids::INTEGER[]) + len($location_ids::INTEGER[]) + len($statuses::VARCHAR[]) > 0
   OR $min_appointments::INTEGER IS NOT NULL
GROUP BY tenant_id, customer_id
HAVING count(*) >= coalesce($min_appointments::INTEGER, 1)
