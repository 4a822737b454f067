-- This occurrence's recipient has the anchor key now.
INSERT INTO recurring_sent_keys (recurring_id, anchor_key, campaign_id, phone_e164)
VALUES (:recurring_id, :anchor_key, :campaign_id, :phone_e164)
ON CONFLICT (recurring_id, anchor_key) DO UPDATE SET campaign_id = excluded.campaign_id, phone_e164 = excluded.phone_e164
