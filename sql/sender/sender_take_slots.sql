-- Takes the sender's next free slots: they start at :start and end at :next_slot (the caller computed both).
UPDATE senders SET next_slot = :next_slot
WHERE tenant_id = :tenant_id AND sender = :sender
