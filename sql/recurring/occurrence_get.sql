-- The campaign already made for this occurrence, if any.
SELECT campaign_id FROM recurring_occurrences WHERE recurring_id = :recurring_id AND occurrence_at = :occurrence_at
