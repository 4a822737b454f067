-- The anchor appointments of a preview's sample ($anchor_ids, of the customers in [$first_id, $last_id]) as one
-- list, read through constant filters like sample_customers.sql; their service, staff and location come from the
-- tenant's directory (sample_directory.sql). An anchor is its member's own appointment: the preview pairs it by
-- customer too. Fields: appointment_id, customer_id, starts_at, ends_at, status, service_id, staff_id, location_id,
-- client_timezone.
SELECT list((appointment_id, customer_id, starts_at, ends_at, status, service_id, staff_id, location_id,
             nullif(client_timezone, '')))
FROM appointments
WHERE tenant_id = $tenant_id AND customer_id BETWEEN $first_id AND $last_id
  AND list_contains($anchor_ids::INTEGER[], appointment_id)
