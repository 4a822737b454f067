-- lapsed(days): at least 1 appointment, and the latest starts_at < as_of − days (a future booking is not lapsed).
-- No anchor.
SELECT tenant_id, customer_id, NULL::INTEGER AS anchor_appointment_id
FROM filtered_appointments
GROUP BY tenant_id, customer_id
HAVING max(starts_at) < $as_of - $days * 86400 AND count(*) >= coalesce($min_appointments::INTEGER, 1)
