-- PostgreSQL variant of sql/sender/sender_get.sql: the row stays locked until the transaction ends, so
-- two claims on one sender (any process, any machine) take consecutive slots, never the same ones.
-- One sender's pacing state.
SELECT tenant_id, sender, throughput_per_s, next_slot, throttled_until, throttle_streak
FROM senders
WHERE tenant_id = :tenant_id AND sender = :sender
FOR UPDATE
