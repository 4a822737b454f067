-- How many numbers a tenant has suppressed.
SELECT count(*) FROM suppression WHERE tenant_id = :tenant_id
