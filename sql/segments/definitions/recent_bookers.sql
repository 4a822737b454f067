-- recent_bookers(days): an appointment with created_at in (as_of − days, as_of].
-- Anchor: the latest such appointment (largest starts_at, ties: largest appointment_id;
-- compared through appointments.recency, as in narrowed_filtered.sql).
SELECT tenant_id, customer_id,
       arg_max(appointment_id, recency) AS anchor_appointment_id,
       arg_max_null(timezone_id, recency) AS anchor_timezone_id
FROM filtered_appointments
WHERE created_at > $as_of - $days * 86400 AND created_at <= $as_of
GROUP BY tenant_id, customer_id
