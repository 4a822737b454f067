-- The zone sets customer_facts names (one row per zone_set), with the zones and strict state they stand for.
INSERT INTO zone_sets
SELECT zone_set, any_value(phone_zones), any_value(phone_strict_state)
FROM customer_facts
WHERE zone_set IS NOT NULL
GROUP BY zone_set
ORDER BY zone_set
