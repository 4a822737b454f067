-- One frozen recipient with its rendered body and its own zone (for the quiet hours; NULL: the tenant's).
INSERT INTO recipients (campaign_id, customer_id, phone_e164, full_name, body, segments, timezone)
VALUES (?, ?, ?, ?, ?, ?, ?)
