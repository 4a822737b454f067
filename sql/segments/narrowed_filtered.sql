-- Per-customer counts over the filtered appointment set (a service, location or status filter is set): the
-- customers with at least one appointment in it, their count, latest starts_at and latest appointment (largest
-- starts_at, ties: largest id), and their phone as audiences classify it (customer_facts). The pair is compared
-- through appointments.recency, the appointment's place in its tenant's order by the pair (one INTEGER: with the
-- pair as a struct, then as one HUGEINT, these two aggregates were most of a filtered all_appointments preview).
SELECT n.tenant_id, n.customer_id, n.appointment_count, n.last_starts_at, n.latest_appointment_id,
       n.latest_timezone_id, f.phone_key, f.phone_exclusion, f.phone_shared, f.zone_set
FROM (
    SELECT tenant_id, customer_id, count(*) AS appointment_count, max(starts_at) AS last_starts_at,
           arg_max(appointment_id, recency) AS latest_appointment_id,
           arg_max_null(timezone_id, recency) AS latest_timezone_id
    FROM filtered_appointments
    GROUP BY tenant_id, customer_id
) AS n
JOIN customer_facts AS f ON f.tenant_id = n.tenant_id AND f.customer_id = n.customer_id
