-- The recipients: members not excluded.
SELECT * FROM classified_members WHERE exclusion IS NULL
