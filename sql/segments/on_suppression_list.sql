-- Recipients of a preview (the `classified_members` table) whose number is on the tenant's suppression list
-- (`listed_numbers(tenant_id, phone_e164)`), when the query does not exclude the list: skipped at send time.
SELECT count(*) AS on_list
FROM classified_members AS m
JOIN listed_numbers AS s ON s.tenant_id = m.tenant_id AND s.phone_e164 = m.phone_e164
WHERE m.exclusion IS NULL
