-- Twilio asked the sender to slow down: no slot of any run before :until.
UPDATE senders
SET throttled_until = max(throttled_until, :until), next_slot = max(next_slot, :until),
    throttle_streak = throttle_streak + 1
WHERE tenant_id = :tenant_id AND sender = :sender
