-- One campaign's re-sends after a delivery error: how many, and of how many recipients.
SELECT count(*) AS delivery_resends, count(DISTINCT recipient_id) AS recipients
FROM delivery_resends WHERE tenant_id = :tenant_id AND campaign_id = :campaign_id
