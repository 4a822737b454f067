-- Every ready segment's members of every tenant with default parameters, in one pass (the materialized tables):
-- one scan of the appointments in any window finds the three window segments' members and anchors, and
-- customer_facts gives the count-based ones, instead of one statement per segment regrouping every appointment.
-- The predicates are those of sql/segments/definitions/*.sql with no filter (tests/test_segments.py checks
-- that both give the same members, anchors and exclusions; anchors order (starts_at, appointment_id) through
-- appointments.recency, as narrowed_filtered.sql explains). Rows: segment, tenant_id, customer_id, anchor_appointment_id.
WITH windows AS (
    SELECT tenant_id, customer_id,
           arg_max(appointment_id, recency)
               FILTER (WHERE created_at > $as_of - $recent_bookers_days * 86400 AND created_at <= $as_of)
               AS recent_bookers,
           arg_min(appointment_id, recency)
               FILTER (WHERE starts_at >= $as_of AND starts_at < $as_of + $upcoming_days * 86400
                         AND status NOT IN ('canceled', 'rejected')) AS upcoming,
           arg_max(appointment_id, recency)
               FILTER (WHERE status IN ('canceled', 'rejected')
                         AND ((starts_at > $as_of - $cancelled_or_rejected_days * 86400 AND starts_at <= $as_of)
                           OR (created_at > $as_of - $cancelled_or_rejected_days * 86400 AND created_at <= $as_of)))
               AS cancelled_or_rejected
    FROM appointments
    WHERE (created_at > $as_of - $recent_bookers_days * 86400 AND created_at <= $as_of)
       OR (starts_at >= $as_of AND starts_at < $as_of + $upcoming_days * 86400)
       OR (status IN ('canceled', 'rejected')
           AND (starts_at > $as_of - $cancelled_or_rejected_days * 86400
             OR created_at > $as_of - $cancelled_or_rejected_days * 86400))
    GROUP BY tenant_id, customer_id
),
facts AS (
    SELECT f.tenant_id, f.customer_id, f.appointment_count, f.last_starts_at, f.latest_appointment_id,
           w.recent_bookers, w.upcoming, w.cancelled_or_rejected
    FROM customer_facts AS f
    LEFT JOIN windows AS w ON w.tenant_id = f.tenant_id AND w.customer_id = f.customer_id
)
SELECT 'recent_bookers' AS segment, tenant_id, customer_id, recent_bookers AS anchor_appointment_id
FROM facts WHERE recent_bookers IS NOT NULL
UNION ALL
SELECT 'upcoming', tenant_id, customer_id, upcoming FROM facts WHERE upcoming IS NOT NULL
UNION ALL
SELECT 'first_time', tenant_id, customer_id, NULL FROM facts WHERE appointment_count = 1
UNION ALL
SELECT 'repeat', tenant_id, customer_id, NULL FROM facts WHERE appointment_count >= $repeat_min
UNION ALL
SELECT 'lapsed', tenant_id, customer_id, NULL
FROM facts WHERE appointment_count >= 1 AND last_starts_at < $as_of - $lapsed_days * 86400
UNION ALL
SELECT 'cancelled_or_rejected', tenant_id, customer_id, cancelled_or_rejected
FROM facts WHERE cancelled_or_rejected IS NOT NULL
UNION ALL
SELECT 'all_customers', tenant_id, customer_id, NULL FROM facts
UNION ALL
SELECT 'all_appointments', tenant_id, customer_id, latest_appointment_id FROM facts WHERE appointment_count >= 1
