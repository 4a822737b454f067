-- first_time: exactly 1 appointment. No anchor.
SELECT tenant_id, customer_id, NULL::INTEGER AS anchor_appointment_id
FROM filtered_appointments
GROUP BY tenant_id, customer_id
HAVING count(*) = 1 AND count(*) >= coalesce($min_appointments::INTEGER, 1)
