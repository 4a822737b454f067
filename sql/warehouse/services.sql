-- Cleaned services: tenant NULL -> 0.
INSERT INTO services
SELECT
    coalesce(s.tenant_id, 0)     AS tenant_id,
    s.id                         AS service_id,
    coalesce(s.name, '')         AS name,
    s.price                      AS price,
    s.duration                   AS duration,
    s.category_id                AS category_id,
    s.is_active <> 0             AS is_active
FROM raw_services AS s
WHERE s.id IS NOT NULL
