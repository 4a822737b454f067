-- The attempts log of one recipient of one tenant's campaign, oldest first.
SELECT a.attempt_no, a.started_at, a.finished_at, a.outcome, a.error_code, a.error_message, a.http_status, a.sid
FROM attempts AS a
JOIN campaigns AS c ON c.campaign_id = a.campaign_id
WHERE c.tenant_id = :tenant_id AND a.campaign_id = :campaign_id AND a.recipient_id = :recipient_id
ORDER BY a.attempt_no
