-- Phone numbers (E.164) held by more than one customer of the same tenant.
-- Returns: numbers, customers (holding such a number), sample (up to 5 'tenant:+number' strings).
WITH shared AS (
    SELECT tenant_id, phone_e164, count(*) AS holders
    FROM customers
    WHERE phone_e164 IS NOT NULL
    GROUP BY tenant_id, phone_e164
    HAVING count(*) > 1
)
SELECT
    count(*)                                                                             AS numbers,
    coalesce(sum(holders), 0)                                                            AS customers,
    coalesce((list(tenant_id || ':' || phone_e164 ORDER BY holders DESC, tenant_id, phone_e164))[1:5], []) AS sample
FROM shared
