-- The recipients grouped by what the quiet hours look at (a preview's deferral): the anchor appointment's client
-- timezone, the number's zones as the sync stored them (customer_facts.phone_zones) and whether the number is in
-- Florida or Oklahoma (+1 and an area code of $strict_area_codes); per group, how many recipients and the numbers
-- of those a frequency cap applies to ($capped_numbers: 'every', 'strict_state', or NULL for none), whose
-- messages the ledger counts. Reads `classified_members`; preview.sql reads it as the CTE `recipient_zones`.
SELECT client_timezone, phone_zones, strict_state, count(*) AS recipients,
       list(phone_e164) FILTER (WHERE $capped_numbers::VARCHAR = 'every'
                                   OR ($capped_numbers::VARCHAR = 'strict_state' AND strict_state)) AS counted
FROM (
    SELECT '+' || f.phone_key::VARCHAR AS phone_e164, nullif(a.client_timezone, '') AS client_timezone,
           f.phone_zones,
           starts_with(f.phone_key::VARCHAR, '1')
               AND list_contains($strict_area_codes::VARCHAR[], substr(f.phone_key::VARCHAR, 2, 3)) AS strict_state
    FROM classified_members AS m
    JOIN customer_facts AS f ON f.tenant_id = m.tenant_id AND f.customer_id = m.customer_id
    LEFT JOIN appointments AS a ON a.tenant_id = m.tenant_id AND a.appointment_id = m.anchor_appointment_id
    WHERE m.exclusion IS NULL
) AS recipients
GROUP BY client_timezone, phone_zones, strict_state
