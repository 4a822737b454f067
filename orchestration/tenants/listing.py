"""Every tenant the product knows (warehouse data or ledger settings), with the name to show for it."""

from __future__ import annotations

from dataclasses import dataclass

from orchestration.ledger.store import Ledger
from orchestration.sqlfiles import load_sql
from orchestration.warehouse import Warehouse


@dataclass(frozen=True)
class Tenant:
    """One tenant; `name` is the ledger's name, else its company's name in the warehouse, else ''."""

    tenant_id: int
    name: str = ""

    @property
    def display_name(self) -> str:
        """The name, or 'Tenant N' when the tenant has none."""
        return self.name or f"Tenant {self.tenant_id}"


def list_tenants(warehouse: Warehouse, ledger: Ledger) -> list[Tenant]:
    """Tenants in the warehouse's `tenants` table or the ledger, by id (an empty list when neither has any)."""
    with ledger.read() as con:
        names = {int(row["tenant_id"]): row["name"] for row in con.execute(load_sql("ledger/queries/tenant_names.sql"))}
    if not warehouse.exists:
        return [Tenant(tenant_id, name) for tenant_id, name in sorted(names.items())]
    with warehouse.reader() as con:
        ids = names.keys() | {int(row[0]) for row in con.execute(load_sql("segments/known_tenants.sql")).fetchall()}
        for tenant_id in ids - {tenant_id for tenant_id, name in names.items() if name}:
            company = con.execute(load_sql("sender/company.sql"), {"tenant_id": tenant_id}).fetchone()
            names[tenant_id] = company[0] if company else ""
    return [Tenant(tenant_id, names[tenant_id]) for tenant_id in sorted(ids)]
