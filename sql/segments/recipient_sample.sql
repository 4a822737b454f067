-- The first recipients in customer-id order, for a preview.
SELECT customer_id, first_name, last_name, full_name, phone_e164, email,
       anchor_appointment_id, anchor_starts_at, anchor_ends_at, anchor_status,
       service_name, service_price, service_duration, staff_name, staff_phone, location_name, location_address
FROM segment_recipients
WHERE exclusion IS NULL
ORDER BY customer_id
LIMIT $sample
