-- Every defined member (the query sets no minimum count).
SELECT tenant_id, customer_id, anchor_appointment_id, anchor_timezone_id, phone_key, phone_exclusion, phone_shared,
       zone_set
FROM defined_members
