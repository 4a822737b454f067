-- A new campaign (draft for a segment; manual and test sends are launched at once by their creator).
INSERT INTO campaigns (tenant_id, name, kind, audience_json, template_body, max_attempts, retry_base_seconds,
                       rate_limit_per_s, failure_streak_pause)
VALUES (:tenant_id, :name, :kind, :audience_json, :template_body, :max_attempts, :retry_base_seconds,
        :rate_limit_per_s, :failure_streak_pause)
RETURNING campaign_id
