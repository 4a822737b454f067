-- Whether a claim reserved credits (its tenant was metered when it claimed).
SELECT 1 FROM credit_entries WHERE kind = 'debit' AND claim_id = :claim_id
