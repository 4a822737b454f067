-- A tenant's campaigns, newest first.
SELECT * FROM campaigns WHERE tenant_id = :tenant_id ORDER BY campaign_id DESC
