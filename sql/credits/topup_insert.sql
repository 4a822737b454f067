-- A top-up: the segments added, who added them and why.
INSERT INTO credit_entries (tenant_id, kind, segments, note, actor, at)
VALUES (:tenant_id, 'topup', :segments, :note, :actor, :now)
