-- A tenant's recurring campaigns (removed ones only when asked), with their latest occurrence.
SELECT d.*, o.occurrence_at AS last_occurrence_at, o.campaign_id AS last_campaign_id, c.state AS last_campaign_state
FROM recurring_campaigns AS d
LEFT JOIN recurring_occurrences AS o
       ON o.recurring_id = d.recurring_id
      AND o.occurrence_at = (SELECT max(occurrence_at) FROM recurring_occurrences WHERE recurring_id = d.recurring_id)
LEFT JOIN campaigns AS c ON c.campaign_id = o.campaign_id
WHERE d.tenant_id = :tenant_id AND (:with_removed = 1 OR d.state != 'removed')
ORDER BY d.recurring_id
