-- PostgreSQL variant of sql/recurring/definition_evaluated.sql: two-argument max is greatest.
-- Occurrences up to :occurrence_at are done (made, or skipped as too late); only moves forward.
UPDATE recurring_campaigns SET evaluated_at = greatest(evaluated_at, :occurrence_at), updated_at = :now
WHERE recurring_id = :recurring_id AND state = 'active'
