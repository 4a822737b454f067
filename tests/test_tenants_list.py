"""Listing tenants: every tenant of the warehouse or the ledger, once, by id, with the name to show."""

from __future__ import annotations

import pytest

from orchestration.ledger import Ledger
from orchestration.sqlfiles import load_sql
from orchestration.tenants import Tenant, ensure_tenant, list_tenants
from orchestration.warehouse import Warehouse


def build_warehouse(path, tenants: tuple[int, ...], companies: dict[int, str]) -> Warehouse:
    """A warehouse with the contract's schema, the given tenants and the given company names."""
    warehouse = Warehouse(path)
    with warehouse.writer() as con:
        con.execute(load_sql("warehouse/schema.sql"))
        for tenant in tenants:
            con.execute("INSERT INTO tenants VALUES (?, ?)", [tenant, f"Booknetic tenant {tenant}"])
        for tenant, name in companies.items():
            con.execute("INSERT INTO company VALUES (?, ?, '', '', '')", [tenant, name])
    return warehouse


@pytest.fixture
def ledger(home) -> Ledger:
    return Ledger(home.ledger)


@pytest.fixture
def warehouse(home) -> Warehouse:
    return build_warehouse(home.warehouse, tenants=(1, 2), companies={1: "Acme Salon", 2: "Blue Spa"})


def test_warehouse_tenants_are_listed_with_their_company_name(warehouse, ledger):
    assert list_tenants(warehouse, ledger) == [Tenant(1, "Acme Salon"), Tenant(2, "Blue Spa")]


def test_a_tenant_known_only_to_the_ledger_is_listed(warehouse, ledger):
    ensure_tenant(ledger, 7, name="Ledger only")
    assert [tenant.tenant_id for tenant in list_tenants(warehouse, ledger)] == [1, 2, 7]


def test_the_ledgers_name_wins_over_the_company_name(warehouse, ledger):
    ensure_tenant(ledger, 2, name="Blue Spa Downtown")
    assert list_tenants(warehouse, ledger)[1] == Tenant(2, "Blue Spa Downtown")


def test_a_tenant_in_both_stores_is_listed_once(warehouse, ledger):
    ensure_tenant(ledger, 1)
    assert [tenant.tenant_id for tenant in list_tenants(warehouse, ledger)] == [1, 2]


def test_an_unnamed_ledger_tenant_takes_the_company_name(warehouse, ledger):
    ensure_tenant(ledger, 1)
    assert list_tenants(warehouse, ledger)[0].name == "Acme Salon"


def test_a_tenant_without_any_name_is_shown_as_tenant_n(home, ledger):
    warehouse = build_warehouse(home.warehouse, tenants=(3,), companies={})
    assert [tenant.display_name for tenant in list_tenants(warehouse, ledger)] == ["Tenant 3"]


def test_a_named_tenant_is_shown_by_its_name(warehouse, ledger):
    assert list_tenants(warehouse, ledger)[0].display_name == "Acme Salon"


def test_without_a_warehouse_the_ledgers_tenants_are_listed(home, ledger):
    ensure_tenant(ledger, 4, name="Four")
    ensure_tenant(ledger, 0)
    assert list_tenants(Warehouse(home.warehouse), ledger) == [Tenant(0, ""), Tenant(4, "Four")]


def test_no_tenant_anywhere_lists_nothing(home, ledger):
    assert list_tenants(Warehouse(home.warehouse), ledger) == []
