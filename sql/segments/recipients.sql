-- A segment's members as recipients: every member with its exclusion reason (NULL = a recipient) and its anchor
-- appointment's details for shortcodes. Reads `segment_members(customer_id, anchor_appointment_id)` and
-- `suppressed_numbers(phone_e164)` (empty unless the suppression list is excluded).
-- Order of the rules: no_phone, invalid_phone, duplicate_phone (the lowest customer id of one E.164 number
-- stays), then suppressed (so a suppressed number shared by several members counts once as suppressed).
SELECT c.customer_id, c.first_name, c.last_name, c.full_name, c.phone_e164, c.email,
       a.appointment_id AS anchor_appointment_id, a.starts_at AS anchor_starts_at, a.ends_at AS anchor_ends_at,
       a.status AS anchor_status,
       sv.name AS service_name, sv.price AS service_price, sv.duration AS service_duration,
       st.name AS staff_name, st.phone_number AS staff_phone,
       lo.name AS location_name, lo.address AS location_address,
       CASE
           WHEN c.phone_status = 'no_phone' THEN 'no_phone'
           WHEN c.phone_status <> 'ok' OR c.phone_e164 IS NULL THEN 'invalid_phone'
           WHEN row_number() OVER (
                    PARTITION BY CASE WHEN c.phone_status = 'ok' THEN c.phone_e164 END ORDER BY c.customer_id
                ) > 1 THEN 'duplicate_phone'
           WHEN c.phone_e164 IN (SELECT phone_e164 FROM suppressed_numbers) THEN 'suppressed'
       END AS exclusion
FROM segment_members AS m
JOIN customers AS c ON c.tenant_id = $tenant_id AND c.customer_id = m.customer_id
LEFT JOIN appointments AS a ON a.tenant_id = $tenant_id AND a.appointment_id = m.anchor_appointment_id
LEFT JOIN services AS sv ON sv.tenant_id = $tenant_id AND sv.service_id = a.service_id
LEFT JOIN staff AS st ON st.tenant_id = $tenant_id AND st.staff_id = a.staff_id
LEFT JOIN locations AS lo ON lo.tenant_id = $tenant_id AND lo.location_id = a.location_id
