-- The next due recipients, oldest due first.
SELECT recipient_id FROM recipients
WHERE campaign_id = :campaign_id AND state = 'pending' AND due_at <= :now
ORDER BY due_at, recipient_id
LIMIT :limit
