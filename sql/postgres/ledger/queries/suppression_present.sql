-- PostgreSQL variant of sql/ledger/queries/suppression_present.sql: json_each is json_array_elements_text.
-- Which of the given numbers (:numbers = one JSON array of E.164 strings) the tenant has suppressed.
SELECT phone_e164
FROM suppression
WHERE tenant_id = :tenant_id
  AND phone_e164 IN (SELECT value FROM json_array_elements_text(CAST(:numbers AS json)))
