-- A segment's members with their exclusion reason (NULL = a recipient), their anchor's client timezone and their
-- number's zone_set (what the quiet hours' preview groups by). Reads `segment_members(tenant_id, customer_id,
-- anchor_appointment_id, anchor_timezone_id, phone_key, phone_exclusion, phone_shared, zone_set)` (the phone as
-- customer_facts classifies it) and `suppressed_numbers(tenant_id, phone_e164, listed, undeliverable)` (the tenant's
-- suppression list and its undeliverable numbers; $exclude_suppressed says whether a listed number is excluded). Rules
-- in order: no_phone, invalid_phone, duplicate_phone (of the members sharing one E.164 number the lowest customer id
-- stays), then suppressed or undeliverable (so such a number shared by several members counts once as that and
-- otherwise as duplicate_phone). Phones are compared as numbers (`phone_key`), and only numbers that several customers
-- of the tenant hold (`phone_shared`, a few percent) are grouped to find the lowest member id: the group-by over every
-- member's phone string was most of a preview's time (BENCHMARKS.md).
WITH first_of_shared_phone AS (
    SELECT tenant_id, phone_key, min(customer_id) AS customer_id
    FROM segment_members
    WHERE phone_shared AND phone_exclusion IS NULL
    GROUP BY tenant_id, phone_key
),
excluded_numbers AS (
    SELECT tenant_id, try_cast(substr(phone_e164, 2) AS BIGINT) AS phone_key,
           CASE WHEN listed AND $exclude_suppressed::BOOLEAN THEN 'suppressed'
                WHEN undeliverable THEN 'undeliverable' END AS exclusion,
           listed
    FROM suppressed_numbers
    WHERE list_contains($tenant_ids::INTEGER[], tenant_id)  -- a kept cursor holds other tenants' rows too
)
SELECT m.tenant_id, m.customer_id, m.anchor_appointment_id,
       CASE
           WHEN m.phone_exclusion IS NOT NULL THEN m.phone_exclusion
           WHEN f.customer_id <> m.customer_id THEN 'duplicate_phone'
           ELSE s.exclusion
       END AS exclusion,
       coalesce(s.listed, false) AS listed,
       m.phone_key, m.zone_set, m.anchor_timezone_id
FROM segment_members AS m
LEFT JOIN first_of_shared_phone AS f ON f.tenant_id = m.tenant_id AND f.phone_key = m.phone_key
LEFT JOIN excluded_numbers AS s ON s.tenant_id = m.tenant_id AND s.phone_key = m.phone_key
