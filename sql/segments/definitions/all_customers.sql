-- all_customers: every customer of the tenant, including those without appointments, when no appointment
-- filter is set; with a filter (services, locations, statuses, minimum count), the customers having at least
-- one appointment (and the minimum count) in the filtered set. No anchor.
SELECT c.customer_id, NULL::INTEGER AS anchor_appointment_id
FROM customers AS c
WHERE c.tenant_id = $tenant_id
  AND len($service_ids::INTEGER[]) + len($location_ids::INTEGER[]) + len($statuses::VARCHAR[]) = 0
  AND $min_appointments::INTEGER IS NULL
UNION ALL
SELECT customer_id, NULL::INTEGER AS anchor_appointment_id
FROM filtered_appointments
WHERE len($service_ids::INTEGER[]) + len($location_ids::INTEGER[]) + len($statuses::VARCHAR[]) > 0
   OR $min_appointments::INTEGER IS NOT NULL
GROUP BY customer_id
HAVING count(*) >= coalesce($min_appointments::INTEGER, 1)
