-- Ledger v6: a resend campaign links to the campaign whose recipients it sends to again (NULL: not a resend).

ALTER TABLE campaigns ADD COLUMN origin_campaign_id INTEGER REFERENCES campaigns(campaign_id);

CREATE INDEX campaigns_by_origin ON campaigns (origin_campaign_id) WHERE origin_campaign_id IS NOT NULL;
