-- The tenant's company details, for {company_*} shortcodes (DuckDB, warehouse).
SELECT name, phone, address, website FROM company WHERE tenant_id = $tenant_id LIMIT 1
