-- Ledger v6 on PostgreSQL: a resend campaign links to its origin (see sql/ledger/006_resend.sql).

ALTER TABLE campaigns ADD COLUMN origin_campaign_id BIGINT REFERENCES campaigns(campaign_id);

CREATE INDEX campaigns_by_origin ON campaigns (origin_campaign_id) WHERE origin_campaign_id IS NOT NULL;
