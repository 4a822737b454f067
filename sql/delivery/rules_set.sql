-- Stores one tenant's rules on delivery errors (every value given; the caller merged them with the current ones).
INSERT INTO delivery_rules (tenant_id, resend_max, resend_delay_s, filtered_pause_share, filtered_pause_min_final)
VALUES (:tenant_id, :resend_max, :resend_delay_s, :filtered_pause_share, :filtered_pause_min_final)
ON CONFLICT (tenant_id) DO UPDATE
SET resend_max = excluded.resend_max, resend_delay_s = excluded.resend_delay_s,
    filtered_pause_share = excluded.filtered_pause_share,
    filtered_pause_min_final = excluded.filtered_pause_min_final,
    updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
