-- A send went through: the sender's throttle streak starts again from zero.
UPDATE senders SET throttle_streak = 0
WHERE tenant_id = :tenant_id AND sender = :sender AND throttle_streak > 0
