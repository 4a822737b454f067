-- One segment's classified members as its materialized members table (`segment_<name>_members`), in (tenant,
-- customer id) order, with the instant the segment was materialized as of.
SELECT tenant_id, customer_id, anchor_appointment_id, exclusion, make_timestamp($as_of::BIGINT * 1000000) AS as_of
FROM segment_classified
WHERE segment = $segment
ORDER BY tenant_id, customer_id
