-- Change some of a tenant's settings: a NULL parameter keeps that setting as it is.
UPDATE tenants
SET name = coalesce(:name, name),
    default_region = coalesce(:default_region, default_region),
    rate_limit_per_s = coalesce(:rate_limit_per_s, rate_limit_per_s),
    max_attempts = coalesce(:max_attempts, max_attempts),
    retry_base_seconds = coalesce(:retry_base_seconds, retry_base_seconds),
    failure_streak_pause = coalesce(:failure_streak_pause, failure_streak_pause),
    timezone = coalesce(:timezone, timezone),
    quiet_hours = coalesce(:quiet_hours, quiet_hours),
    state_rules = coalesce(:state_rules, state_rules),
    frequency_cap = coalesce(:frequency_cap, frequency_cap),
    updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE tenant_id = :tenant_id
