-- One campaign's lifecycle state (for the rules on its delivery errors).
SELECT state FROM campaigns WHERE tenant_id = :tenant_id AND campaign_id = :campaign_id
