-- Appends one inbound message with what its keyword did (never updated afterwards).
INSERT INTO inbound_messages (tenant_id, sid, from_number, to_number, body, keyword, outcome, source, date_sent,
                              received_at, raw_json)
VALUES (:tenant_id, :sid, :from_number, :to_number, :body, :keyword, :outcome, :source, :date_sent, :received_at,
        :raw_json)
