-- Per-customer facts over all of the customer's appointments, as of the sync's as_of.
-- Parameters: $as_of (TIMESTAMP, UTC), $as_of_epoch (the same instant in Unix seconds).
INSERT INTO customer_facts
SELECT
    c.tenant_id,
    c.customer_id,
    count(a.appointment_id)                                                         AS appointment_count,
    min(a.starts_at)                                                                AS first_starts_at,
    max(a.starts_at)                                                                AS last_starts_at,
    min(a.starts_at) FILTER (WHERE a.starts_at >= $as_of_epoch)                     AS next_starts_at,
    coalesce(list(DISTINCT a.status ORDER BY a.status) FILTER (WHERE a.status IS NOT NULL),
             []::VARCHAR[])                                                         AS statuses,
    $as_of::TIMESTAMP                                                               AS as_of
FROM customers AS c
LEFT JOIN appointments AS a ON a.tenant_id = c.tenant_id AND a.customer_id = c.customer_id
GROUP BY c.tenant_id, c.customer_id
