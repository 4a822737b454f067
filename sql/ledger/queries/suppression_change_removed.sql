-- Logs the removal of one number from a tenant's suppression list (additions are logged by a trigger).
INSERT INTO suppression_changes (tenant_id, phone_e164, change, source, reason, source_sid)
VALUES (:tenant_id, :phone_e164, 'removed', :source, :reason, :source_sid)
