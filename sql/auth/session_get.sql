-- The live session of a token: not revoked, not expired, its user not disabled.
SELECT u.user_id, u.email, u.role, u.tenant_id, u.password_hash, u.disabled, u.failed_sign_ins, u.locked_until,
       u.created_at, s.expires_at
FROM sessions s JOIN users u USING (user_id)
WHERE s.token_sha256 = :token_sha256 AND s.revoked = 0 AND s.expires_at > :now AND u.disabled = 0
