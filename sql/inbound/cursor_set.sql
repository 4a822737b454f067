-- Moves one sender's watermark forward (never back) and notes when it was listed.
INSERT INTO inbound_cursors (tenant_id, sender, watermark, listed_at)
VALUES (:tenant_id, :sender, :watermark, :listed_at)
ON CONFLICT (tenant_id, sender) DO UPDATE
SET watermark = max(inbound_cursors.watermark, excluded.watermark), listed_at = excluded.listed_at
