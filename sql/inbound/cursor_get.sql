-- How far the poller has read one sender's inbound messages (no row: never).
SELECT watermark FROM inbound_cursors WHERE tenant_id = :tenant_id AND sender = :sender
