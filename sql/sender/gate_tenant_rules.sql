-- The tenant's claim-time rules: its sending window, Florida/Oklahoma rules, time zone and frequency cap.
SELECT quiet_hours, state_rules, timezone, frequency_cap FROM tenants WHERE tenant_id = :tenant_id
