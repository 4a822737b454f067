-- Tenants whose rules re-send messages after 30003/30008.
SELECT tenant_id FROM delivery_rules WHERE resend_max > 0 ORDER BY tenant_id
