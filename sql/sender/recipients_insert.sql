-- One frozen recipient with its rendered body.
INSERT INTO recipients (campaign_id, customer_id, phone_e164, full_name, body, segments)
VALUES (?, ?, ?, ?, ?, ?)
