-- Each tenant's distinct non-empty appointment client timezones, numbered per tenant (1, 2, ... by name):
-- appointments.timezone_id names them, so that the segments carry an anchor's timezone through their aggregates and
-- a preview groups its recipients by a small integer (a VARCHAR there was about a fifth of a large filtered
-- preview's grouping, BENCHMARKS.md); the preview reads the names of its few groups here (sql/segments/preview.sql).
INSERT INTO client_timezones
SELECT tenant_id, row_number() OVER (PARTITION BY tenant_id ORDER BY client_timezone)::INTEGER AS timezone_id,
       client_timezone
FROM (SELECT DISTINCT coalesce(tenant_id, 0) AS tenant_id, client_timezone
      FROM raw_appointments
      WHERE coalesce(client_timezone, '') <> '')
ORDER BY tenant_id, timezone_id
