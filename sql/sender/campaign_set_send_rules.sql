-- A campaign's own sending window (NULL: the tenant's) and what a recipient at the frequency cap gets.
UPDATE campaigns SET quiet_hours = :quiet_hours, on_cap = :on_cap
WHERE tenant_id = :tenant_id AND campaign_id = :campaign_id
