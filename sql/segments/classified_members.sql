-- A segment's members with their exclusion reason (NULL = a recipient). Reads `segment_members(tenant_id,
-- customer_id, anchor_appointment_id)` and `suppressed_numbers(tenant_id, phone_e164)` (empty unless a preview
-- excludes the suppression list). Rules in order: no_phone, invalid_phone, duplicate_phone (of the members
-- sharing one E.164 number the lowest customer id stays), then suppressed (so a suppressed number shared by
-- several members counts once as suppressed and otherwise as duplicate_phone).
SELECT m.tenant_id, m.customer_id, m.anchor_appointment_id,
       c.first_name, c.last_name, c.full_name, c.phone_e164, c.email,
       CASE
           WHEN c.phone_status = 'no_phone' THEN 'no_phone'
           WHEN c.phone_status <> 'ok' OR c.phone_e164 IS NULL THEN 'invalid_phone'
           WHEN row_number() OVER (
                    PARTITION BY m.tenant_id, CASE WHEN c.phone_status = 'ok' THEN c.phone_e164 END
                    ORDER BY m.customer_id
                ) > 1 THEN 'duplicate_phone'
           WHEN s.phone_e164 IS NOT NULL THEN 'suppressed'
       END AS exclusion
FROM segment_members AS m
JOIN customers AS c ON c.tenant_id = m.tenant_id AND c.customer_id = m.customer_id
LEFT JOIN suppressed_numbers AS s ON s.tenant_id = m.tenant_id AND s.phone_e164 = c.phone_e164
