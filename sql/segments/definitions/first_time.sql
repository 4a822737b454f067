-- first_time: exactly 1 appointment. No anchor.
SELECT tenant_id, customer_id, NULL::INTEGER AS anchor_appointment_id
FROM narrowed_customers
WHERE appointment_count = 1
