-- The exclusion reason of every member of memberships.sql (`segment_memberships`), segment by segment, by the
-- rules of sql/segments/classified_members.sql without a suppression list (it changes between
-- materializations; previews and sends subtract it): no_phone, invalid_phone, then duplicate_phone for all but
-- the lowest customer id of a segment's members sharing one number.
WITH member_phones AS (
    SELECT m.segment, m.tenant_id, m.customer_id, m.anchor_appointment_id, f.phone_key, f.phone_exclusion,
           f.phone_shared
    FROM segment_memberships AS m
    JOIN customer_facts AS f ON f.tenant_id = m.tenant_id AND f.customer_id = m.customer_id
),
first_of_shared_phone AS (
    SELECT segment, tenant_id, phone_key, min(customer_id) AS customer_id
    FROM member_phones
    WHERE phone_shared AND phone_exclusion IS NULL
    GROUP BY segment, tenant_id, phone_key
)
SELECT m.segment, m.tenant_id, m.customer_id, m.anchor_appointment_id,
       CASE
           WHEN m.phone_exclusion IS NOT NULL THEN m.phone_exclusion
           WHEN f.customer_id <> m.customer_id THEN 'duplicate_phone'
       END AS exclusion
FROM member_phones AS m
LEFT JOIN first_of_shared_phone AS f
       ON f.segment = m.segment AND f.tenant_id = m.tenant_id AND f.phone_key = m.phone_key
