-- Links an early report to the recipient that owns its SID now, and says whether it moved its status.
UPDATE delivery_events SET recipient_id = :recipient_id, applied = :applied WHERE event_id = :event_id
