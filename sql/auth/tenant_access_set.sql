INSERT INTO tenant_access (tenant_id, analysts_may_launch) VALUES (:tenant_id, :analysts_may_launch)
ON CONFLICT (tenant_id) DO UPDATE SET analysts_may_launch = excluded.analysts_may_launch
