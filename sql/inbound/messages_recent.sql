-- One tenant's recorded inbound messages, newest first.
SELECT sid, from_number, to_number, body, keyword, outcome, source, date_sent, received_at
FROM inbound_messages
WHERE tenant_id = :tenant_id
ORDER BY coalesce(date_sent, received_at) DESC, inbound_id DESC
LIMIT :limit
