-- A query's checks against the warehouse in one statement: whether the tenant has data, and the service and
-- location ids given that the tenant does not have (NULL: none).
SELECT EXISTS (SELECT 1 FROM tenants WHERE tenant_id = $tenant_id) AS tenant_known,
       (SELECT list(DISTINCT id ORDER BY id) FROM unnest($service_ids::INTEGER[]) AS given(id)
        WHERE id NOT IN (SELECT service_id FROM services WHERE tenant_id = $tenant_id)) AS unknown_services,
       (SELECT list(DISTINCT id ORDER BY id) FROM unnest($location_ids::INTEGER[]) AS given(id)
        WHERE id NOT IN (SELECT location_id FROM locations WHERE tenant_id = $tenant_id)) AS unknown_locations
