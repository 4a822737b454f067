-- PostgreSQL variant of sql/credits/claimable.sql: json_each is json_array_elements_text.
-- The claim's still-pending recipients with their segments, in the claim's order (oldest due first).
SELECT recipient_id, segments FROM recipients
WHERE recipient_id IN (SELECT value::bigint FROM json_array_elements_text(CAST(:ids AS json))) AND state = 'pending'
ORDER BY due_at, recipient_id
