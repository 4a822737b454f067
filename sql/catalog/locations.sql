-- One tenant's locations with their appointment counts (for `bkntc-sms catalog locations`, the ids of --location).
SELECT l.location_id AS id, l.name, l.address, l.is_active AS active,
       (SELECT count(*) FROM appointments AS a
        WHERE a.tenant_id = l.tenant_id AND a.location_id = l.location_id) AS appointments
FROM locations AS l
WHERE l.tenant_id = $tenant_id
ORDER BY l.location_id
