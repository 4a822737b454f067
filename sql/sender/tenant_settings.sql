-- One tenant's sending defaults (a campaign copies them at creation unless it overrides them).
SELECT tenant_id, default_region, rate_limit_per_s, max_attempts, retry_base_seconds, failure_streak_pause
FROM tenants
WHERE tenant_id = :tenant_id
