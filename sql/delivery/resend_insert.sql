-- Keeps the previous message of a recipient that is sent again: its SID stays the recipient's, with its outcome.
INSERT INTO delivery_resends (tenant_id, campaign_id, recipient_id, resend_no, previous_sid, previous_status,
                              previous_error_code, previous_sent_at, requested_at)
VALUES (:tenant_id, :campaign_id, :recipient_id, :resend_no, :previous_sid, :previous_status, :previous_error_code,
        :previous_sent_at, :now)
