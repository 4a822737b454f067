-- PostgreSQL variant of sql/sender/claim_candidates.sql: several workers claim disjoint chunks: rows another
-- worker's claim has locked are skipped, not waited for.
-- The next due recipients, oldest due first.
SELECT recipient_id FROM recipients
WHERE campaign_id = :campaign_id AND state = 'pending' AND due_at <= :now
ORDER BY due_at, recipient_id
LIMIT :limit
FOR UPDATE SKIP LOCKED
