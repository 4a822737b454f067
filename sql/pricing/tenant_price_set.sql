-- Set a tenant's own price per SMS segment.
INSERT INTO tenant_prices (tenant_id, usd_per_segment) VALUES (:tenant_id, :usd_per_segment)
ON CONFLICT (tenant_id) DO UPDATE SET usd_per_segment = excluded.usd_per_segment,
    updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
