-- The sender's pacing row (created on first use).
INSERT INTO senders (tenant_id, sender) VALUES (:tenant_id, :sender)
ON CONFLICT (tenant_id, sender) DO NOTHING
