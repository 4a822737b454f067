-- The recurring campaign a campaign is an occurrence of (none: an ordinary campaign).
SELECT recurring_id, occurrence_at FROM recurring_occurrences WHERE campaign_id = :campaign_id
