-- Sets a sender's throughput (SMS segments per second; NULL: the sender type's default; 0: no limit).
INSERT INTO senders (tenant_id, sender, throughput_per_s) VALUES (:tenant_id, :sender, :throughput_per_s)
ON CONFLICT (tenant_id, sender) DO UPDATE SET
    throughput_per_s = excluded.throughput_per_s,
    updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
