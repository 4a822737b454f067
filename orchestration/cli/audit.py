"""CLI for the audit log: `bkntc-sms audit export --tenant T --out FILE.csv` and `audit list`."""

from __future__ import annotations

import click

from orchestration.auth import audit
from orchestration.cli import home_of, main
from orchestration.ledger import Ledger


@main.group("audit")
def audit_group() -> None:
    """Who did what, when, to which tenant (append-only)."""


@audit_group.command("export")
@click.option("--tenant", "tenant_id", type=click.IntRange(min=0), required=True)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="The CSV file to write.")
@click.option("--action", default=None, help="Only this action or family (e.g. campaign, suppression.add).")
@click.option("--since", default=None, help="From this UTC date or instant (e.g. 2026-01-31).")
@click.pass_context
def export_command(ctx: click.Context, tenant_id: int, out: str, action: str | None, since: str | None) -> None:
    """Write one tenant's audit log to a CSV file."""
    count = audit.export_csv(Ledger(home_of(ctx).ledger), tenant_id, out, action=action, since=since)
    click.echo(f"Wrote {count} audit rows of tenant {tenant_id} to {out}.")


@audit_group.command("list")
@click.option("--tenant", "tenant_id", type=click.IntRange(min=0), required=True)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1))
@click.pass_context
def list_command(ctx: click.Context, tenant_id: int, limit: int) -> None:
    """The newest audit rows of one tenant."""
    frame = audit.entries(Ledger(home_of(ctx).ledger), tenant_id, limit=limit)
    for row in frame.itertuples(index=False):
        click.echo(f"{row.at}\t{row.actor}\t{row.action}\t{row.object}\t{row.detail}")
