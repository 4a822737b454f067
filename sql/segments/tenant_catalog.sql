-- What a query's values are checked against, in one statement: whether the tenant has data, its service and
-- location ids, and the status slugs its appointments use (sorted; an open set: the filter options list them too).
SELECT EXISTS (SELECT 1 FROM tenants WHERE tenant_id = $tenant_id)                             AS tenant_known,
       coalesce((SELECT list(service_id) FROM services WHERE tenant_id = $tenant_id), [])        AS service_ids,
       coalesce((SELECT list(location_id) FROM locations WHERE tenant_id = $tenant_id), [])      AS location_ids,
       coalesce((SELECT list(DISTINCT status ORDER BY status) FROM appointments
                 WHERE tenant_id = $tenant_id AND status IS NOT NULL), [])                     AS statuses
