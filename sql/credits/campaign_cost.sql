-- A campaign's cost in SMS segments: the segments of its frozen recipients that are not skipped.
SELECT coalesce(sum(r.segments), 0)
FROM recipients AS r JOIN campaigns AS c ON c.campaign_id = r.campaign_id
WHERE c.tenant_id = :tenant_id AND r.campaign_id = :campaign_id AND r.state != 'skipped'
