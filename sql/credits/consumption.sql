-- A tenant's consumption by campaign: reserved (debits), refunded, adjusted, and the net segments used.
SELECT e.campaign_id, c.name,
       coalesce(-sum(e.segments) FILTER (WHERE e.kind = 'debit'), 0) AS reserved,
       coalesce(sum(e.segments) FILTER (WHERE e.kind = 'refund'), 0) AS refunded,
       coalesce(sum(e.segments) FILTER (WHERE e.kind = 'adjust'), 0) AS adjusted,
       coalesce(-sum(e.segments), 0) AS used
FROM credit_entries AS e
LEFT JOIN campaigns AS c ON c.campaign_id = e.campaign_id
WHERE e.tenant_id = :tenant_id AND e.kind != 'topup'
GROUP BY e.campaign_id, c.name
ORDER BY e.campaign_id
