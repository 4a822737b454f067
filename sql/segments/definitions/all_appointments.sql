-- all_appointments: at least 1 appointment. Anchor: the latest one (largest starts_at, ties: largest id).
SELECT tenant_id, customer_id, arg_max(appointment_id, (starts_at, appointment_id)) AS anchor_appointment_id
FROM filtered_appointments
GROUP BY tenant_id, customer_id
HAVING count(*) >= coalesce($min_appointments::INTEGER, 1)
