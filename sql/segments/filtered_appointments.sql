-- The tenant's appointment set narrowed by the filters; every segment definition reads it as
-- `filtered_appointments`. An empty list means "no filter" for that dimension.
SELECT a.appointment_id, a.customer_id, a.service_id, a.location_id, a.staff_id, a.status,
       a.starts_at, a.ends_at, a.created_at
FROM appointments AS a
WHERE a.tenant_id = $tenant_id
  AND (len($service_ids::INTEGER[]) = 0 OR list_contains($service_ids::INTEGER[], a.service_id))
  AND (len($location_ids::INTEGER[]) = 0 OR list_contains($location_ids::INTEGER[], a.location_id))
  AND (len($statuses::VARCHAR[]) = 0 OR list_contains($statuses::VARCHAR[], a.status))
