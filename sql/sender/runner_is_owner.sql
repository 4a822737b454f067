-- Whether this run still holds the campaign (a run that lost its hold must stop claiming at once).
SELECT count(*) AS owner FROM campaigns
WHERE tenant_id = :tenant_id AND campaign_id = :campaign_id AND runner_id = :runner_id
