-- One tenant's editable settings.
SELECT tenant_id, name, default_region, rate_limit_per_s, max_attempts, retry_base_seconds, failure_streak_pause, timezone,
       quiet_hours, state_rules, frequency_cap
FROM tenants
WHERE tenant_id = :tenant_id
