-- Cleaned staff: tenant NULL -> 0, text '' when missing.
INSERT INTO staff
SELECT
    coalesce(s.tenant_id, 0)         AS tenant_id,
    s.id                             AS staff_id,
    coalesce(s.name, '')             AS name,
    coalesce(s.email, '')            AS email,
    coalesce(s.phone_number, '')     AS phone_number,
    coalesce(s.profession, '')       AS profession,
    s.is_active <> 0                 AS is_active
FROM raw_staff AS s
WHERE s.id IS NOT NULL
