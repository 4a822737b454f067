-- The campaign made for one occurrence (one per definition and instant).
INSERT INTO recurring_occurrences (recurring_id, occurrence_at, campaign_id) VALUES (:recurring_id, :occurrence_at, :campaign_id)
