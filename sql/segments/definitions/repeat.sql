-- repeat(min): at least `min` appointments. No anchor.
SELECT tenant_id, customer_id, NULL::INTEGER AS anchor_appointment_id, NULL::INTEGER AS anchor_timezone_id,
       phone_key, phone_exclusion, phone_shared, zone_set
FROM narrowed_customers
WHERE appointment_count >= $min
