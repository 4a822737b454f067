-- all_appointments: at least 1 appointment. Anchor: the latest one (largest starts_at, ties: largest id).
SELECT tenant_id, customer_id, latest_appointment_id AS anchor_appointment_id,
       latest_timezone_id AS anchor_timezone_id, phone_key, phone_exclusion, phone_shared, zone_set
FROM narrowed_customers
WHERE appointment_count >= 1
