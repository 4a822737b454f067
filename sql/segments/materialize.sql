-- One tenant's rows of a materialized segment table: every member, its exclusion reason (NULL = recipient;
-- the suppression list is left to preview and send time) and its anchor appointment.
SELECT $tenant_id::INTEGER AS tenant_id, customer_id, first_name, last_name, full_name, phone_e164, email,
       anchor_appointment_id, anchor_starts_at, anchor_ends_at, anchor_status,
       service_name, service_price, service_duration, staff_name, staff_phone, location_name, location_address,
       exclusion, make_timestamp($as_of::BIGINT * 1000000) AS as_of
FROM segment_recipients
ORDER BY customer_id
