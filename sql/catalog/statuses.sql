-- The appointment status slugs found in one tenant's data, with counts (for `bkntc-sms catalog statuses`, --status).
SELECT status, count(*) AS appointments
FROM appointments
WHERE tenant_id = $tenant_id
GROUP BY status
ORDER BY status
