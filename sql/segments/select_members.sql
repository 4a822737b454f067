-- Every member, excluded or not (the materialized tables).
SELECT * FROM classified_members
