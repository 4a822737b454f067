-- Which of these SIDs already belong to a recipient of the tenant other than :recipient_id (a lookup must not
-- take another campaign's or another recipient's message for this one).
SELECT r.sid
FROM recipients AS r
JOIN campaigns AS c ON c.campaign_id = r.campaign_id
WHERE c.tenant_id = :tenant_id
  AND r.sid IN (SELECT value FROM json_each(:sids))
  AND r.recipient_id <> :recipient_id
