"""Data-quality findings: invalid and shared phones, orphan appointments, appointment times, unreadable values."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from orchestration.sqlfiles import load_sql
from orchestration.warehouse.phones import INVALID_PHONE, NO_PHONE


@dataclass(frozen=True)
class PhoneStatusCounts:
    """Customers per tenant by phone status."""

    by_tenant: dict[int, dict[str, int]]

    @property
    def customers(self) -> int:
        return sum(sum(statuses.values()) for statuses in self.by_tenant.values())

    def count(self, status: str) -> int:
        return sum(statuses.get(status, 0) for statuses in self.by_tenant.values())

    def share(self, status: str) -> float:
        return self.count(status) / self.customers if self.customers else 0.0

    def tenant_share(self, tenant_id: int, status: str) -> float:
        statuses = self.by_tenant.get(tenant_id, {})
        total = sum(statuses.values())
        return statuses.get(status, 0) / total if total else 0.0

    @property
    def invalid_share(self) -> float:
        return self.share(INVALID_PHONE)

    @property
    def no_phone_share(self) -> float:
        return self.share(NO_PHONE)


@dataclass(frozen=True)
class Finding:
    """How many rows are affected out of how many, with a few examples."""

    affected: int
    total: int
    sample: list[str]

    @property
    def share(self) -> float:
        return self.affected / self.total if self.total else 0.0


def phone_status_counts(con: duckdb.DuckDBPyConnection) -> PhoneStatusCounts:
    """Customers per tenant and phone status."""
    by_tenant: dict[int, dict[str, int]] = {}
    for tenant_id, status, customers in con.execute(load_sql("warehouse/check_phone_status.sql")).fetchall():
        by_tenant.setdefault(tenant_id, {})[status] = customers
    return PhoneStatusCounts(by_tenant)


def duplicate_phones(con: duckdb.DuckDBPyConnection) -> tuple[int, Finding]:
    """(numbers held by more than one customer of a tenant, the customers holding them out of all customers)."""
    numbers, holders, sample = con.execute(load_sql("warehouse/check_duplicate_phones.sql")).fetchall()[0]
    total = con.execute("SELECT count(*) FROM customers").fetchall()[0][0]
    return numbers, Finding(int(holders), total, list(sample))


def orphan_appointments(con: duckdb.DuckDBPyConnection) -> Finding:
    """Appointments whose customer is not among the tenant's customers."""
    orphans, total, sample = con.execute(load_sql("warehouse/check_orphan_appointments.sql")).fetchall()[0]
    return Finding(orphans, total, list(sample))


@dataclass(frozen=True)
class AppointmentTimes:
    """Source appointments kept without a booking time, and those left out (no id, customer or start)."""

    appointments: int
    without_created_at: int
    left_out: Finding


def appointment_times(con: duckdb.DuckDBPyConnection) -> AppointmentTimes:
    """How the sync dealt with the source appointments' times (reads raw_appointments)."""
    total, without, left_out, sample = con.execute(load_sql("warehouse/check_appointment_times.sql")).fetchall()[0]
    return AppointmentTimes(total, without, Finding(left_out, total, list(sample)))


@dataclass(frozen=True)
class SourceRejects:
    """Source values read as NULL because they did not fit their column, per 'table.column' (`*`: CSV rows)."""

    by_column: dict[str, int]
    samples: dict[str, list[str]]

    @property
    def total(self) -> int:
        return sum(self.by_column.values())


def source_rejects(con: duckdb.DuckDBPyConnection) -> SourceRejects:
    """What the last raw copy could not read (none for a warehouse synced before rejects were kept)."""
    present = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'source_rejects'"
                          ).fetchall()[0][0]
    rows = con.execute(load_sql("warehouse/source_rejects.sql")).fetchall() if present else []
    return SourceRejects({f"{t}.{c}": n for t, c, n, _ in rows}, {f"{t}.{c}": list(k) for t, c, _, k in rows})
