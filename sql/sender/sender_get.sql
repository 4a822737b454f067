-- One sender's pacing state.
SELECT tenant_id, sender, throughput_per_s, next_slot, throttled_until, throttle_streak
FROM senders
WHERE tenant_id = :tenant_id AND sender = :sender
