-- Drop a tenant's own price per SMS segment (back to the product's table of list prices).
DELETE FROM tenant_prices WHERE tenant_id = :tenant_id
