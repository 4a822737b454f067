-- Every user, or (with :tenant_id) the users of one tenant; operators are listed only without a tenant.
SELECT user_id, email, role, tenant_id, password_hash, disabled, failed_sign_ins, locked_until, created_at
FROM users
WHERE :tenant_id IS NULL OR tenant_id = :tenant_id
ORDER BY tenant_id IS NOT NULL, tenant_id, email
