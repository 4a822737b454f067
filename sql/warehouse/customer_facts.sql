-- Per-customer facts over all of the customer's appointments, as of the sync's as_of, and the customer's phone
-- in the form the audiences classify it (previews read these instead of regrouping every appointment).
-- Parameters: $as_of (TIMESTAMP, UTC), $as_of_epoch (the same instant in Unix seconds), $strict_area_codes (the
-- Florida and Oklahoma area codes: a +1 number with one is in a strict state). zone_set numbers each distinct
-- (phone_zones, strict state) of the ok numbers; sql/warehouse/zone_sets.sql then lists them.
-- Stored in (tenant, customer) order, like customers, so one tenant's preview reads only its row groups.
INSERT INTO customer_facts
WITH per_customer AS (
    SELECT tenant_id, customer_id,
           count(*)                                              AS appointment_count,
           min(starts_at)                                        AS first_starts_at,
           max(starts_at)                                        AS last_starts_at,
           min(starts_at) FILTER (WHERE starts_at >= $as_of_epoch) AS next_starts_at,
           -- the latest appointment: (starts_at, appointment_id) compared through recency (as in
           -- sql/segments/narrowed_filtered.sql), far cheaper to aggregate than the pair
           arg_max(appointment_id, recency) AS latest_appointment_id,
           arg_max_null(timezone_id, recency)                    AS latest_timezone_id,
           list(DISTINCT status ORDER BY status)                 AS statuses
    FROM appointments
    GROUP BY tenant_id, customer_id
),
shared_phones AS (  -- numbers held by several customers of a tenant (the duplicate_phone rule looks only at these)
    SELECT tenant_id, phone_e164
    FROM customers
    WHERE phone_status = 'ok' AND phone_e164 IS NOT NULL
    GROUP BY tenant_id, phone_e164
    HAVING count(*) > 1
)
SELECT
    c.tenant_id,
    c.customer_id,
    coalesce(a.appointment_count, 0)                                               AS appointment_count,
    a.first_starts_at,
    a.last_starts_at,
    a.next_starts_at,
    coalesce(a.statuses, []::VARCHAR[])                                            AS statuses,
    a.latest_appointment_id,
    a.latest_timezone_id,
    c.phone_key,
    CASE WHEN c.phone_status = 'no_phone' THEN 'no_phone'
         WHEN c.phone_status <> 'ok' OR c.phone_key IS NULL THEN 'invalid_phone' END AS phone_exclusion,
    s.phone_e164 IS NOT NULL                                                       AS phone_shared,
    c.phone_zones,
    c.strict_state                                                                 AS phone_strict_state,
    CASE WHEN c.phone_key IS NOT NULL
         THEN dense_rank() OVER (ORDER BY c.phone_key IS NULL, c.phone_zones, c.strict_state) END AS zone_set,
    $as_of::TIMESTAMP                                                              AS as_of
FROM (SELECT *, coalesce(starts_with(phone_key::VARCHAR, '1')
                         AND list_contains($strict_area_codes::VARCHAR[], substr(phone_key::VARCHAR, 2, 3)), false)
                    AS strict_state
      FROM (SELECT *, CASE WHEN phone_status = 'ok' THEN try_cast(substr(phone_e164, 2) AS BIGINT) END AS phone_key
            FROM customers)) AS c
LEFT JOIN per_customer AS a ON a.tenant_id = c.tenant_id AND a.customer_id = c.customer_id
LEFT JOIN shared_phones AS s ON s.tenant_id = c.tenant_id AND s.phone_e164 = c.phone_e164
ORDER BY c.tenant_id, c.customer_id
