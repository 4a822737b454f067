-- Every table's columns in one attached catalog (the warehouse file, or the in-memory schema of this version).
SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = $catalog AND schema_name = 'main'
