-- Moves a campaign from one state to another; no row changes when it is no longer in `from_state`.
UPDATE campaigns
SET state = :to_state,
    pause_reason = :pause_reason,
    generation = generation + :new_generation,
    failure_streak = CASE WHEN :new_generation > 0 THEN 0 ELSE failure_streak END,
    launched_at = CASE WHEN :to_state = 'queued' AND launched_at IS NULL
                       THEN strftime('%Y-%m-%dT%H:%M:%fZ', 'now') ELSE launched_at END,
    finished_at = CASE WHEN :to_state IN ('completed', 'cancelled')
                       THEN strftime('%Y-%m-%dT%H:%M:%fZ', 'now') ELSE NULL END,
    updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE tenant_id = :tenant_id AND campaign_id = :campaign_id AND state = :from_state
