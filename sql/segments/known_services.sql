-- One tenant's services (for filter checks and the console's filter options).
SELECT service_id, name FROM services WHERE tenant_id = $tenant_id ORDER BY name, service_id
