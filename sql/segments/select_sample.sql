-- The first recipients in customer-id order (a preview's sample), chosen before the anchor details are joined.
SELECT * FROM classified_members WHERE exclusion IS NULL ORDER BY customer_id LIMIT $sample
