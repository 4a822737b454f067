-- Appends one status report (callback or poll) to the audit log.
INSERT INTO delivery_events (tenant_id, recipient_id, sid, status, error_code, source, applied, received_at, raw_json)
VALUES (:tenant_id, :recipient_id, :sid, :status, :error_code, :source, :applied, :received_at, :raw_json)
