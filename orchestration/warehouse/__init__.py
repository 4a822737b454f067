"""The DuckDB warehouse: raw Booknetic tables, the cleaned layer, per-customer facts and materialized segments."""

from orchestration.warehouse.store import SharedSession, Warehouse, WarehouseMissing

__all__ = ["SharedSession", "Warehouse", "WarehouseMissing"]
