-- The PostgreSQL service's databases, made once when its volume is new: `dagster` (POSTGRES_DB: Dagster's run,
-- event-log and schedule storage) exists already; the ledger gets its own database (its tables are made by the
-- product's migrations on first use).
CREATE DATABASE ledger OWNER bkntc;
