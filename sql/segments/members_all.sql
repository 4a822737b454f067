-- Every defined member (the query sets no minimum count).
SELECT tenant_id, customer_id, anchor_appointment_id, anchor_timezone FROM defined_members
