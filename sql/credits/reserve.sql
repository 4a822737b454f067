-- A claimed chunk's segments, reserved in the claim's transaction (kept or refunded attempt by attempt).
INSERT INTO credit_entries (tenant_id, kind, segments, campaign_id, claim_id, at)
VALUES (:tenant_id, 'debit', -CAST(:segments AS BIGINT), :campaign_id, :claim_id, :now)
