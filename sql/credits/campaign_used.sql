-- The segments a campaign's sends have consumed: its reservations less their refunds and adjustments.
SELECT coalesce(-sum(segments), 0) FROM credit_entries WHERE campaign_id = :campaign_id AND tenant_id = :tenant_id
