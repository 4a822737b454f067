-- A campaign's audience is frozen again from scratch: the keys of its partial rows are given back.
DELETE FROM recurring_sent_keys WHERE campaign_id = :campaign_id
