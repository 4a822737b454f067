-- One campaign of one tenant (another tenant's campaign is not found).
SELECT * FROM campaigns WHERE tenant_id = :tenant_id AND campaign_id = :campaign_id
