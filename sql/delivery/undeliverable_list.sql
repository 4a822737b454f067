-- One tenant's undeliverable numbers, most recently marked first.
SELECT phone_e164, error_code, source_sid, marked_at
FROM undeliverable_numbers WHERE tenant_id = :tenant_id
ORDER BY marked_at DESC, phone_e164
