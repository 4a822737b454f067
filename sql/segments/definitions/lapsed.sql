-- lapsed(days): at least 1 appointment, and the latest starts_at < as_of − days (a future booking is not lapsed).
-- No anchor.
SELECT tenant_id, customer_id, NULL::INTEGER AS anchor_appointment_id, NULL::INTEGER AS anchor_timezone_id,
       phone_key, phone_exclusion, phone_shared, zone_set
FROM narrowed_customers
WHERE appointment_count >= 1 AND last_starts_at < $as_of - $days * 86400
