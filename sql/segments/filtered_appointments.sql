-- The appointment set of the tenants in scope ($tenant_ids: the caller's one tenant for previews and recipient
-- lists, every tenant for the materialized tables), narrowed by the filters; every segment definition reads it
-- as `filtered_appointments` and keys everything by (tenant_id, customer_id). An empty filter list = no filter.
SELECT a.tenant_id, a.appointment_id, a.customer_id, a.service_id, a.location_id, a.staff_id, a.status,
       a.starts_at, a.ends_at, a.created_at, a.timezone_id, a.recency
FROM appointments AS a
WHERE list_contains($tenant_ids::INTEGER[], a.tenant_id)
  AND (len($service_ids::INTEGER[]) = 0 OR list_contains($service_ids::INTEGER[], a.service_id))
  AND (len($location_ids::INTEGER[]) = 0 OR list_contains($location_ids::INTEGER[], a.location_id))
  AND (len($statuses::VARCHAR[]) = 0 OR list_contains($statuses::VARCHAR[], a.status))
