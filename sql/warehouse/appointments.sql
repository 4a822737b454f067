-- Cleaned appointments: tenant NULL -> 0, Unix seconds kept and also given as UTC TIMESTAMPs.
-- Rows without an id, a customer or a start cannot be placed in any segment and are left out (counted by
-- check_appointment_times.sql). A NULL created_at is kept: only recent_bookers and cancelled_or_rejected read it.
-- Stored in (tenant, customer) order so that one tenant's scans skip the other tenants' row groups. `recency` numbers
-- each tenant's appointments by (starts_at, appointment_id), so that the segments' latest or next appointment is an
-- aggregate over one INTEGER: arg_max over the pair as one HUGEINT (starts_at * 2^32 + id) was a quarter of a
-- filtered all_appointments preview's grouping (BENCHMARKS.md). `timezone_id`: the client timezone's number in the
-- tenant's client_timezones (filled first), NULL when there is none.
INSERT INTO appointments
SELECT
    coalesce(a.tenant_id, 0)                        AS tenant_id,
    a.id                                            AS appointment_id,
    a.customer_id                                   AS customer_id,
    a.service_id                                    AS service_id,
    a.location_id                                   AS location_id,
    a.staff_id                                      AS staff_id,
    coalesce(a.status, '')                          AS status,
    a.starts_at                                     AS starts_at,
    a.ends_at                                       AS ends_at,
    a.created_at                                    AS created_at,
    make_timestamp(a.starts_at * 1000000)           AS starts_ts,
    make_timestamp(a.ends_at * 1000000)             AS ends_ts,
    make_timestamp(a.created_at * 1000000)          AS created_ts,
    coalesce(a.client_timezone, '')                 AS client_timezone,
    a.paid_amount                                   AS paid_amount,
    a.payment_status                                AS payment_status,
    row_number() OVER (PARTITION BY coalesce(a.tenant_id, 0) ORDER BY a.starts_at, a.id)::INTEGER AS recency,
    z.timezone_id                                   AS timezone_id
FROM raw_appointments AS a
LEFT JOIN client_timezones AS z ON z.tenant_id = coalesce(a.tenant_id, 0) AND z.client_timezone = a.client_timezone
WHERE a.id IS NOT NULL AND a.customer_id IS NOT NULL AND a.starts_at IS NOT NULL
ORDER BY coalesce(a.tenant_id, 0), a.customer_id, a.id
