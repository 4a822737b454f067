-- The frequency cap's count: messages of every campaign of the tenant to these numbers since :since, sent or
-- claimed and being sent now (so two campaigns claiming one number at once cannot both pass the cap: on PostgreSQL
-- their claims take the tenant's sender row first, FOR UPDATE, so the second sees the first's claim once it has
-- committed).
SELECT r.phone_e164, coalesce(r.sent_at, r.attempt_started_at) AS at
FROM recipients AS r
JOIN campaigns AS c ON c.campaign_id = r.campaign_id
WHERE r.phone_e164 IN (SELECT value FROM json_each(:phones))
  AND c.tenant_id = :tenant_id
  AND ((r.state = 'sent' AND r.sent_at > :since) OR (r.state = 'sending' AND r.attempt_started_at > :since))
