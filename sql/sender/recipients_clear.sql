-- Drops what an interrupted snapshot left behind (a draft campaign has no attempts yet).
DELETE FROM recipients WHERE campaign_id = :campaign_id
