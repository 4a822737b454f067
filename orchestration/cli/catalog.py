"""CLI commands: the tenant's catalog (`bkntc-sms catalog services|locations|statuses|staff`)."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from orchestration.cli import home_of, main
from orchestration.warehouse import Warehouse
from orchestration.warehouse.catalog import CATALOGS, catalog

_HINTS = {"services": "--service ID", "locations": "--location ID", "statuses": "--status SLUG", "staff": None}


@main.command("catalog")
@click.argument("kind", type=click.Choice(CATALOGS))
@click.option("--tenant", "tenant_id", type=int, required=True, help="Tenant id (0 on a single site).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@click.pass_context
def catalog_command(ctx: click.Context, kind: str, tenant_id: int, as_json: bool) -> None:
    """List the tenant's services, locations, appointment statuses or staff, with the ids the audience filters
    take (preview / campaign create --service, --location, --status)."""
    rows = catalog(Warehouse(home_of(ctx).warehouse), tenant_id, kind)
    if as_json:
        click.echo(json.dumps(rows))
        return
    if not rows:
        click.echo(f"Tenant {tenant_id} has no {kind} in the warehouse.")
        return
    table = Table(title=f"{kind.capitalize()} of tenant {tenant_id}")
    for column in rows[0]:
        table.add_column(column, no_wrap=column in ("id", "status"))
    for row in rows:
        table.add_row(*("" if value is None else str(value) for value in row.values()))
    Console().print(table)
    if _HINTS[kind]:
        click.echo(f"Filter an audience with {_HINTS[kind]} (repeat it for several).")
