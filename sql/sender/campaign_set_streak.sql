-- The campaign's count of consecutive failed attempts (kept in the store, so it survives restarts).
UPDATE campaigns SET failure_streak = :failure_streak
WHERE tenant_id = :tenant_id AND campaign_id = :campaign_id
