-- upcoming(days): an appointment with starts_at in [as_of, as_of + days) whose status is not canceled/rejected.
-- Anchor: the next such appointment (smallest starts_at, ties: smallest appointment_id;
-- compared through appointments.recency, as in narrowed_filtered.sql).
SELECT tenant_id, customer_id,
       arg_min(appointment_id, recency) AS anchor_appointment_id,
       arg_min_null(timezone_id, recency) AS anchor_timezone_id
FROM filtered_appointments
WHERE starts_at >= $as_of AND starts_at < $as_of + $days * 86400 AND status NOT IN ('canceled', 'rejected')
GROUP BY tenant_id, customer_id
