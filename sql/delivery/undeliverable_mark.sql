-- Marks a number undeliverable for the tenant (30005, 30006), with the latest report's code, SID and time.
INSERT INTO undeliverable_numbers (tenant_id, phone_e164, error_code, source_sid, marked_at)
VALUES (:tenant_id, :phone_e164, :error_code, :source_sid, :marked_at)
ON CONFLICT (tenant_id, phone_e164) DO UPDATE
SET error_code = excluded.error_code, source_sid = excluded.source_sid, marked_at = excluded.marked_at
