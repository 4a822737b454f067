UPDATE sessions SET revoked = 1 WHERE token_sha256 = :token_sha256
