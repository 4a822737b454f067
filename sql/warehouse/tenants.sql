-- Every tenant seen in the cleaned data or in Booknetic SaaS's tenants table (0 on a single site).
-- Name: the SaaS tenant's full name, else its domain, else its company name, else ''.
INSERT INTO tenants
WITH seen AS (
    SELECT tenant_id FROM customers
    UNION SELECT tenant_id FROM appointments
    UNION SELECT tenant_id FROM services
    UNION SELECT tenant_id FROM locations
    UNION SELECT tenant_id FROM staff
    UNION SELECT tenant_id FROM company
    UNION SELECT id FROM raw_tenants WHERE id IS NOT NULL
)
SELECT
    s.tenant_id,
    coalesce(nullif(trim(t.full_name), ''), nullif(trim(t.domain), ''), nullif(trim(c.name), ''), '') AS name
FROM seen AS s
LEFT JOIN raw_tenants AS t ON t.id = s.tenant_id
LEFT JOIN company AS c ON c.tenant_id = s.tenant_id
ORDER BY s.tenant_id
