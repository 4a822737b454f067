-- Source appointments by what the sync could do with their times: kept without created_at (in every segment
-- but recent_bookers and cancelled_or_rejected's booking window), and left out for lack of an id, a customer or
-- a start. Returns: appointments (in the source), without_created_at, left_out, sample (up to 5 'tenant:id').
SELECT
    count(*)                                                                              AS appointments,
    count(*) FILTER (WHERE created_at IS NULL AND id IS NOT NULL AND customer_id IS NOT NULL
                       AND starts_at IS NOT NULL)                                          AS without_created_at,
    count(*) FILTER (WHERE id IS NULL OR customer_id IS NULL OR starts_at IS NULL)        AS left_out,
    coalesce((list(coalesce(tenant_id, 0) || ':' || coalesce(id::VARCHAR, '?') ORDER BY id)
             FILTER (WHERE id IS NULL OR customer_id IS NULL OR starts_at IS NULL))[1:5], []) AS sample
FROM raw_appointments
