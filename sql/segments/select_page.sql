-- One page of a snapshot's recipients (snapshot_pages.sql), from the temporary table `snapshot_members`.
SELECT * FROM snapshot_members WHERE exclusion IS NULL AND customer_id BETWEEN $first_id AND $last_id
