-- Members and recipients per tenant of one materialized segment (its members table, read as `segment_table`).
SELECT tenant_id, count(*) AS members, count(*) FILTER (WHERE exclusion IS NULL) AS recipients
FROM segment_table
GROUP BY tenant_id
ORDER BY tenant_id
