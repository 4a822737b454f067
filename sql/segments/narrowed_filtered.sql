-- Per-customer counts over the filtered appointment set (a service, location or status filter is set): the
-- customers with at least one appointment in it, their count, latest starts_at and latest appointment (largest
-- starts_at, ties: largest id).
SELECT tenant_id, customer_id, count(*) AS appointment_count, max(starts_at) AS last_starts_at,
       arg_max(appointment_id, (starts_at, appointment_id)) AS latest_appointment_id,
       arg_max_null(client_timezone, (starts_at, appointment_id)) AS latest_client_timezone
FROM filtered_appointments
GROUP BY tenant_id, customer_id
