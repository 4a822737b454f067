-- The customer-id ranges of a snapshot's pages of at most $page recipients, in order (reads the temporary table
-- `snapshot_members`): each page is sorted and joined with its details on its own, so no sort ever holds the
-- whole audience's rows (DuckDB's sort of a 1M audience's wide rows did not fit STREAM_MEMORY_LIMIT).
SELECT min(customer_id) AS first_id, max(customer_id) AS last_id
FROM (SELECT customer_id, (row_number() OVER (ORDER BY customer_id) - 1) // $page AS page
      FROM snapshot_members WHERE exclusion IS NULL)
GROUP BY page
ORDER BY page
