UPDATE users
SET password_hash = :password_hash, failed_sign_ins = 0, locked_until = 0,
    updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE user_id = :user_id
