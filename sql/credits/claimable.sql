-- The claim's still-pending recipients with their segments, in the claim's order (oldest due first).
SELECT recipient_id, segments FROM recipients
WHERE recipient_id IN (SELECT CAST(value AS BIGINT) FROM json_each(:ids)) AND state = 'pending'
ORDER BY due_at, recipient_id
