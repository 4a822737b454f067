-- Which of the given names are stored tables of the warehouse (segment tables written before they became views).
SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND list_contains($names, table_name)
