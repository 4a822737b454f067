-- PostgreSQL variant of sql/sender/sids_owned.sql: json_each is json_array_elements_text.
-- Which of these SIDs already belong to a recipient of the tenant other than :recipient_id (a lookup must not
-- take another campaign's or another recipient's message for this one), or to any recipient's earlier message
-- before a re-send after a delivery error (delivery_resends: the old message is not the new one, even for the same
-- recipient).
SELECT r.sid
FROM recipients AS r
JOIN campaigns AS c ON c.campaign_id = r.campaign_id
WHERE c.tenant_id = :tenant_id
  AND r.sid IN (SELECT value FROM json_array_elements_text(CAST(:sids AS json)))
  AND r.recipient_id <> :recipient_id
UNION
SELECT d.previous_sid
FROM delivery_resends AS d
WHERE d.tenant_id = :tenant_id
  AND d.previous_sid IN (SELECT value FROM json_array_elements_text(CAST(:sids AS json)))
