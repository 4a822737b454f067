-- Values the source could not read as their column's type (read as NULL), per source table and column;
-- column '*' counts CSV rows skipped whole. Returns: source_table, source_column, rejected, sample (row keys).
SELECT source_table, source_column, rejected, sample
FROM source_rejects
ORDER BY source_table, source_column
