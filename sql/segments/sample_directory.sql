-- A tenant's services, staff and locations with what a preview's sample shows of them (anchored.sql's columns:
-- service name, price and duration; staff name and phone; location name and address), read once per published
-- warehouse file (audience._directory), so the sample's anchors need no join (sample_anchors.sql).
SELECT
    coalesce((SELECT list((service_id, name, price::DOUBLE, duration)) FROM services WHERE tenant_id = $tenant_id),
             []) AS services,
    coalesce((SELECT list((staff_id, name, phone_number)) FROM staff WHERE tenant_id = $tenant_id), []) AS staff,
    coalesce((SELECT list((location_id, name, address)) FROM locations WHERE tenant_id = $tenant_id), []) AS locations
