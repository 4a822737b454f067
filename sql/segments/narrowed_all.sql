-- Per-customer counts when a query has no service, location or status filter: every customer of the tenants in
-- scope ($tenant_ids), including those without appointments (count 0), read from customer_facts, so no preview
-- regroups the appointments for it; with the customer's phone as audiences classify it, so that a definition
-- reading this set hands it on without joining customer_facts again. Columns as in narrowed_filtered.sql.
SELECT tenant_id, customer_id, appointment_count, last_starts_at, latest_appointment_id, latest_timezone_id,
       phone_key, phone_exclusion, phone_shared, zone_set
FROM customer_facts
WHERE list_contains($tenant_ids::INTEGER[], tenant_id)
