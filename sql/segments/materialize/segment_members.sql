-- One segment's classified members (`selected_members` of anchored.sql).
SELECT tenant_id, customer_id, anchor_appointment_id, exclusion FROM segment_classified WHERE segment = $segment
