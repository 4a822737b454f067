-- One tenant's services with their appointment counts (for `bkntc-sms catalog services`, the ids of --service).
SELECT s.service_id AS id, s.name, s.price, s.duration AS duration_min, s.is_active AS active,
       (SELECT count(*) FROM appointments AS a
        WHERE a.tenant_id = s.tenant_id AND a.service_id = s.service_id) AS appointments
FROM services AS s
WHERE s.tenant_id = $tenant_id
ORDER BY s.service_id
