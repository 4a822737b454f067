-- Inside a write transaction, before reading a campaign's state to change it (its lifecycle, its runner's hold):
-- on SQLite the transaction already is the only writer (BEGIN IMMEDIATE), so this only reads the row; the
-- PostgreSQL variant locks it until the transaction ends.
SELECT campaign_id FROM campaigns WHERE tenant_id = :tenant_id AND campaign_id = :campaign_id
