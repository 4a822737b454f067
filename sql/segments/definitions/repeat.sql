-- repeat(min): at least `min` appointments. No anchor.
SELECT tenant_id, customer_id, NULL::INTEGER AS anchor_appointment_id
FROM filtered_appointments
GROUP BY tenant_id, customer_id
HAVING count(*) >= $min AND count(*) >= coalesce($min_appointments::INTEGER, 1)
