-- PostgreSQL variant of sql/sender/campaign_lock.sql: the campaign's row stays locked until the transaction ends,
-- so two transactions never both read a state and both change it (two runs taking the hold, a pause and a
-- completion at once): the second waits, then reads what the first wrote.
SELECT campaign_id FROM campaigns WHERE tenant_id = :tenant_id AND campaign_id = :campaign_id
FOR UPDATE
