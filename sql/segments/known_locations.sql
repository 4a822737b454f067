-- One tenant's locations (for filter checks and the console's filter options).
SELECT location_id, name FROM locations WHERE tenant_id = $tenant_id ORDER BY name, location_id
