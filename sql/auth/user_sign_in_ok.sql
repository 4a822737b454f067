UPDATE users SET failed_sign_ins = 0 WHERE user_id = :user_id AND failed_sign_ins != 0
