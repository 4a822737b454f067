-- Appointments whose customer_id has no customer in the same tenant.
-- Returns: orphans, appointments (all), sample (up to 5 'tenant:appointment_id' strings).
SELECT
    count(*) FILTER (WHERE c.customer_id IS NULL)                                        AS orphans,
    count(*)                                                                             AS appointments,
    coalesce((list(a.tenant_id || ':' || a.appointment_id ORDER BY a.tenant_id, a.appointment_id)
             FILTER (WHERE c.customer_id IS NULL))[1:5], [])                              AS sample
FROM appointments AS a
LEFT JOIN customers AS c ON c.tenant_id = a.tenant_id AND c.customer_id = a.customer_id
