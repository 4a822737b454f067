-- A keyword message from this number to the tenant sent after :date_sent, already recorded (the newer one rules).
SELECT sid FROM inbound_messages
WHERE tenant_id = :tenant_id AND from_number = :from_number AND keyword IS NOT NULL AND date_sent > :date_sent
LIMIT 1
