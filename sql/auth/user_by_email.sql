SELECT user_id, email, role, tenant_id, password_hash, disabled, failed_sign_ins, locked_until, created_at
FROM users
WHERE email = :email
