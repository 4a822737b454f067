INSERT INTO users (email, role, tenant_id, password_hash)
VALUES (:email, :role, :tenant_id, :password_hash)
RETURNING user_id
