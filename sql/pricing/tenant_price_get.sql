-- A tenant's own price per SMS segment (no row: the product's table of list prices applies).
SELECT usd_per_segment FROM tenant_prices WHERE tenant_id = :tenant_id
