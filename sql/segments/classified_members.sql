-- A segment's members with their exclusion reason (NULL = a recipient). Reads `segment_members(tenant_id,
-- customer_id, anchor_appointment_id)` and `suppressed_numbers(tenant_id, phone_e164, exclusion)` (the suppression
-- list when a preview excludes it, and the tenant's undeliverable numbers). Rules in order: no_phone, invalid_phone,
-- duplicate_phone (of the members sharing one E.164 number the lowest customer id stays), then suppressed or
-- undeliverable (so such a number shared by several members counts once as that and otherwise as duplicate_phone). The lowest id per number is a
-- GROUP BY joined back, not a row_number() window: same result, and DuckDB's window over many tiny partitions was
-- the slowest operator of previews and materialization (BENCHMARKS.md).
WITH member_phones AS (
    SELECT m.tenant_id, m.customer_id, m.anchor_appointment_id,
           c.first_name, c.last_name, c.full_name, c.phone_e164, c.email, c.phone_status
    FROM segment_members AS m
    JOIN customers AS c ON c.tenant_id = m.tenant_id AND c.customer_id = m.customer_id
),
first_of_phone AS (
    SELECT tenant_id, phone_e164, min(customer_id) AS customer_id
    FROM member_phones
    WHERE phone_status = 'ok' AND phone_e164 IS NOT NULL
    GROUP BY tenant_id, phone_e164
)
SELECT m.tenant_id, m.customer_id, m.anchor_appointment_id,
       m.first_name, m.last_name, m.full_name, m.phone_e164, m.email,
       CASE
           WHEN m.phone_status = 'no_phone' THEN 'no_phone'
           WHEN m.phone_status <> 'ok' OR m.phone_e164 IS NULL THEN 'invalid_phone'
           WHEN f.customer_id <> m.customer_id THEN 'duplicate_phone'
           WHEN s.phone_e164 IS NOT NULL THEN s.exclusion
       END AS exclusion
FROM member_phones AS m
LEFT JOIN first_of_phone AS f ON f.tenant_id = m.tenant_id AND f.phone_e164 = m.phone_e164
LEFT JOIN suppressed_numbers AS s ON s.tenant_id = m.tenant_id AND s.phone_e164 = m.phone_e164
