-- The defined members with at least $min_appointments appointments in the narrowed set (composed only when the
-- query sets a minimum count).
SELECT d.tenant_id, d.customer_id, d.anchor_appointment_id, d.anchor_timezone_id, d.phone_key, d.phone_exclusion,
       d.phone_shared, d.zone_set
FROM defined_members AS d
JOIN narrowed_customers AS n ON n.tenant_id = d.tenant_id AND n.customer_id = d.customer_id
WHERE n.appointment_count >= $min_appointments::INTEGER
