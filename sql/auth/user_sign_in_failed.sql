-- One more failed sign-in; the one that reaches :max_failures locks the account until :locked_until and
-- starts the count again.
UPDATE users
SET failed_sign_ins = CASE WHEN failed_sign_ins + 1 >= :max_failures THEN 0 ELSE failed_sign_ins + 1 END,
    locked_until = CASE WHEN failed_sign_ins + 1 >= :max_failures THEN :locked_until ELSE locked_until END
WHERE user_id = :user_id
RETURNING locked_until
