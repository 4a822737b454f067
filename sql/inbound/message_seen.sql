-- Whether the tenant already recorded this inbound message (by SID).
SELECT outcome FROM inbound_messages WHERE tenant_id = :tenant_id AND sid = :sid
