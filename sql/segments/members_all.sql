-- Every defined member (the query sets no minimum count).
SELECT tenant_id, customer_id, anchor_appointment_id FROM defined_members
