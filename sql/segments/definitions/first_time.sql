-- first_time: exactly 1 appointment. No anchor.
SELECT customer_id, NULL::INTEGER AS anchor_appointment_id
FROM filtered_appointments
GROUP BY customer_id
HAVING count(*) = 1 AND count(*) >= coalesce($min_appointments::INTEGER, 1)
