-- Moves one recipient's delivery state forward (the caller decided, by Twilio's precedence, that it may).
UPDATE recipients
SET delivery_status = :status,
    delivery_error_code = coalesce(:error_code, delivery_error_code),
    delivered_at = coalesce(delivered_at, :delivered_at),
    delivery_next_check_at = CASE WHEN :final = 1 THEN NULL ELSE delivery_next_check_at END
WHERE recipient_id = :recipient_id
