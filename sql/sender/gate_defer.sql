-- A recipient held back by a gate stays pending, due at the window's next opening (or when its cap frees up).
UPDATE recipients
SET due_at = :due_at, deferred_reason = :reason, updated_at = :now
WHERE recipient_id = :recipient_id AND state = 'pending'
