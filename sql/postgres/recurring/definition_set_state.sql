-- PostgreSQL variant of sql/recurring/definition_set_state.sql: two-argument max is greatest.
-- Pauses, resumes (occurrences missed while paused are not made up: evaluated from now) or removes one.
UPDATE recurring_campaigns
SET state = :state, evaluated_at = CASE WHEN :state = 'active' THEN greatest(evaluated_at, :now) ELSE evaluated_at END,
    updated_at = :now
WHERE tenant_id = :tenant_id AND recurring_id = :recurring_id
