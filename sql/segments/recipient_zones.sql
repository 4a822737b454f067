-- Every recipient's number with its anchor appointment's client timezone (the quiet-hours and frequency-cap
-- preview). Reads `classified_members`.
SELECT m.phone_e164, nullif(a.client_timezone, '') AS client_timezone
FROM classified_members AS m
LEFT JOIN appointments AS a ON a.tenant_id = m.tenant_id AND a.appointment_id = m.anchor_appointment_id
WHERE m.exclusion IS NULL
