-- One recurring campaign of one tenant (another tenant's is not found).
SELECT * FROM recurring_campaigns WHERE tenant_id = :tenant_id AND recurring_id = :recurring_id
