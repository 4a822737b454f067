-- Cleaned locations: tenant NULL -> 0, text '' when missing.
INSERT INTO locations
SELECT
    coalesce(l.tenant_id, 0)         AS tenant_id,
    l.id                             AS location_id,
    coalesce(l.name, '')             AS name,
    coalesce(l.address, '')          AS address,
    coalesce(l.phone_number, '')     AS phone_number,
    l.is_active <> 0                 AS is_active
FROM raw_locations AS l
WHERE l.id IS NOT NULL
