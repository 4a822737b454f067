-- PostgreSQL variant of sql/delivery/funnel.sql: json_extract is ->>.
-- One tenant's campaign: recipients by send state, delivery status, delivery error code and sender. The sender
-- of a message is the Messaging Service or From number its latest status report named (a status callback carries
-- them); a message no report named yet counts for :current_sender, the tenant's sender now.
SELECT
    r.state,
    r.delivery_status,
    r.delivery_error_code,
    CASE WHEN r.state = 'sent' THEN coalesce(
        (SELECT coalesce(nullif((CAST(e.raw_json AS json) ->> 'MessagingServiceSid'), ''),
                         nullif((CAST(e.raw_json AS json) ->> 'From'), ''))
         FROM delivery_events AS e
         WHERE e.tenant_id = c.tenant_id AND e.sid = r.sid
           AND coalesce(nullif((CAST(e.raw_json AS json) ->> 'MessagingServiceSid'), ''),
                        nullif((CAST(e.raw_json AS json) ->> 'From'), '')) IS NOT NULL
         ORDER BY e.event_id DESC LIMIT 1),
        :current_sender) END AS sender,
    count(*) AS recipients
FROM recipients AS r
JOIN campaigns AS c ON c.campaign_id = r.campaign_id
WHERE c.tenant_id = :tenant_id AND r.campaign_id = :campaign_id
GROUP BY 1, 2, 3, 4
