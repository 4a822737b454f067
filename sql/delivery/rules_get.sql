-- One tenant's rules on delivery errors (no row: the defaults).
SELECT resend_max, resend_delay_s, filtered_pause_share, filtered_pause_min_final
FROM delivery_rules WHERE tenant_id = :tenant_id
