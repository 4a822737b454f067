-- Suppress one number of a tenant; a number already suppressed keeps its first reason and source (rowcount 0).
INSERT INTO suppression (tenant_id, phone_e164, reason, source, source_sid)
VALUES (:tenant_id, :phone_e164, :reason, :source, :source_sid)
ON CONFLICT (tenant_id, phone_e164) DO NOTHING
