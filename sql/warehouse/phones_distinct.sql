-- Each distinct (region, raw phone) pair among customers: the only values the phone normalizer parses.
-- Parameters: $default_region. Reads the registered relation tenant_regions(tenant_id, region).
SELECT DISTINCT coalesce(r.region, $default_region) AS region, c.phone_number AS phone
FROM raw_customers AS c
LEFT JOIN tenant_regions AS r ON r.tenant_id = coalesce(c.tenant_id, 0)
WHERE c.phone_number IS NOT NULL
