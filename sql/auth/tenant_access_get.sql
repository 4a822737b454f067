SELECT analysts_may_launch FROM tenant_access WHERE tenant_id = :tenant_id
