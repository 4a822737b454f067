-- (Ledger) one tenant's numbers to leave out: its suppression list (`listed`; excluded when a query
-- excludes the list, otherwise counted as on the list and skipped at send time) and its undeliverable numbers
-- (Twilio said 30005/30006; always excluded), each number once.
SELECT s.phone_e164, 1 AS listed,
       CASE WHEN EXISTS (SELECT 1 FROM undeliverable_numbers AS u
                         WHERE u.tenant_id = s.tenant_id AND u.phone_e164 = s.phone_e164) THEN 1 ELSE 0 END
           AS undeliverable
FROM suppression AS s
WHERE s.tenant_id = :tenant_id
UNION ALL
SELECT u.phone_e164, 0, 1
FROM undeliverable_numbers AS u
WHERE u.tenant_id = :tenant_id
  AND NOT EXISTS (SELECT 1 FROM suppression AS s WHERE s.tenant_id = u.tenant_id AND s.phone_e164 = u.phone_e164)
