-- The open set of appointment status slugs found in one tenant's data.
SELECT DISTINCT status FROM appointments WHERE tenant_id = $tenant_id ORDER BY status
