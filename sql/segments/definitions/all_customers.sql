-- all_customers: every customer of the tenant, including those without appointments, when no appointment
-- filter is set; with a filter (services, locations, statuses), the customers having at least one appointment in
-- the filtered set (narrowed_customers holds exactly those then). No anchor.
SELECT tenant_id, customer_id, NULL::INTEGER AS anchor_appointment_id, NULL::INTEGER AS anchor_timezone_id,
       phone_key, phone_exclusion, phone_shared, zone_set
FROM narrowed_customers
