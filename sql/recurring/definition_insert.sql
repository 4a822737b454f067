-- A new recurring campaign; its first occurrence is the first after it was added.
INSERT INTO recurring_campaigns (tenant_id, name, cron, timezone, audience_json, template_body, max_lateness_s,
                                 created_by, created_at, evaluated_at, updated_at)
VALUES (:tenant_id, :name, :cron, :timezone, :audience_json, :template_body, :max_lateness_s,
        :created_by, :now, :now, :now)
RETURNING recurring_id
