-- One tenant's staff with their appointment counts (for `bkntc-sms catalog staff`); no staff email or phone.
SELECT s.staff_id AS id, s.name, s.profession, s.is_active AS active,
       (SELECT count(*) FROM appointments AS a
        WHERE a.tenant_id = s.tenant_id AND a.staff_id = s.staff_id) AS appointments
FROM staff AS s
WHERE s.tenant_id = $tenant_id
ORDER BY s.staff_id
