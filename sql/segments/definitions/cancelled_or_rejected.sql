-- cancelled_or_rejected(days): an appointment with status canceled or rejected whose starts_at or created_at
-- is in (as_of − days, as_of]. Anchor: the latest such appointment (largest starts_at, ties: largest id;
-- compared through appointments.recency, as in narrowed_filtered.sql).
SELECT tenant_id, customer_id,
       arg_max(appointment_id, recency) AS anchor_appointment_id,
       arg_max_null(timezone_id, recency) AS anchor_timezone_id
FROM filtered_appointments
WHERE status IN ('canceled', 'rejected')
  AND ((starts_at > $as_of - $days * 86400 AND starts_at <= $as_of)
    OR (created_at > $as_of - $days * 86400 AND created_at <= $as_of))
GROUP BY tenant_id, customer_id
