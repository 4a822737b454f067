-- The claim's lease, once its send slots are known: after it, no request of the claim can still be in flight.
UPDATE recipients SET lease_until = :lease_until WHERE claim_id = :claim_id AND state = 'sending'
