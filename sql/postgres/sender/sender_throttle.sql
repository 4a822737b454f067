-- PostgreSQL variant of sql/sender/sender_throttle.sql: two-argument max is greatest.
-- Twilio asked the sender to slow down: no slot of any run before :until.
UPDATE senders
SET throttled_until = greatest(throttled_until, :until), next_slot = greatest(next_slot, :until),
    throttle_streak = throttle_streak + 1
WHERE tenant_id = :tenant_id AND sender = :sender
