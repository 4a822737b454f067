-- PostgreSQL variant of sql/sender/runner_is_owner.sql: the hold is share-locked until the claim commits, so no
-- other run can take the campaign over (campaign_lock.sql) between this check and the claim.
SELECT count(*) AS owner FROM (
    SELECT campaign_id FROM campaigns
    WHERE tenant_id = :tenant_id AND campaign_id = :campaign_id AND runner_id = :runner_id
    FOR SHARE
) AS held
