-- A tenant's client timezones by the number appointments.timezone_id gives them (sql/warehouse/client_timezones.sql):
-- the names of a preview's recipient groups (sql/segments/preview.sql groups by the number).
SELECT timezone_id, client_timezone
FROM client_timezones
WHERE tenant_id = $tenant_id
