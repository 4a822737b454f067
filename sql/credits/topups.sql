-- A tenant's top-ups, newest first.
SELECT entry_id, segments, note, actor, at FROM credit_entries
WHERE tenant_id = :tenant_id AND kind = 'topup'
ORDER BY entry_id DESC
