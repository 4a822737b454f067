-- Every tenant's active recurring campaigns (what the sensor evaluates each tick).
SELECT * FROM recurring_campaigns WHERE state = 'active' ORDER BY tenant_id, recurring_id
