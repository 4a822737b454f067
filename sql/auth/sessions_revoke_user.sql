UPDATE sessions SET revoked = 1 WHERE user_id = :user_id AND revoked = 0
