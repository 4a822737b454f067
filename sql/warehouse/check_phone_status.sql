-- Customers per tenant and phone status (ok, no_phone, invalid_phone).
SELECT tenant_id, phone_status, count(*) AS customers
FROM customers
GROUP BY tenant_id, phone_status
ORDER BY tenant_id, phone_status
