"""The delivery domain: polling Twilio for the delivery status of accepted messages."""
