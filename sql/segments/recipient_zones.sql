-- Every recipient's number (E.164, from its phone key) with its anchor appointment's client timezone: what the
-- quiet-hours and frequency-cap preview needs. Reads `classified_members`.
SELECT '+' || f.phone_key::VARCHAR AS phone_e164, nullif(a.client_timezone, '') AS client_timezone
FROM classified_members AS m
JOIN customer_facts AS f ON f.tenant_id = m.tenant_id AND f.customer_id = m.customer_id
LEFT JOIN appointments AS a ON a.tenant_id = m.tenant_id AND a.appointment_id = m.anchor_appointment_id
WHERE m.exclusion IS NULL
