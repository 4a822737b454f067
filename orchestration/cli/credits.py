"""CLI commands: SMS credits (`bkntc-sms credits topup|show`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from orchestration.cli import home_of, main
from orchestration.credits import statement, topup
from orchestration.ledger import Ledger

_tenant = click.option("--tenant", "tenant_id", type=int, required=True, help="Tenant id (0 on a single site).")


@main.group("credits")
def credits_group() -> None:
    """SMS credits of a SaaS tenant: a balance in SMS segments, topped up by an operator, consumed by its sends.
    A tenant that was never topped up (a single site) is not metered and sends without limit."""


@credits_group.command("topup")
@_tenant
@click.option("--segments", type=int, required=True, help="SMS segments to add (0: meter the tenant from now on).")
@click.option("--note", default="", help="Why (an invoice, a plan), kept with the top-up and in the audit log.")
@click.pass_context
def topup_command(ctx: click.Context, tenant_id: int, segments: int, note: str) -> None:
    """Add SMS segments to a tenant's balance (operators only; the tenant is metered from its first top-up)."""
    balance = topup(Ledger(home_of(ctx).ledger), tenant_id, segments, note)
    click.echo(f"Tenant {tenant_id}: {segments:,} SMS segments added; balance {balance:,}.")


@credits_group.command("show")
@_tenant
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def show_command(ctx: click.Context, tenant_id: int, as_json: bool) -> None:
    """A tenant's balance, its top-ups and what each campaign consumed."""
    found = statement(Ledger(home_of(ctx).ledger), tenant_id)
    if as_json:
        document = found.as_dict()
        for row in document["topups"]:
            row["at"] = datetime.fromtimestamp(row["at"], UTC).isoformat().replace("+00:00", "Z")
        click.echo(json.dumps(document))
        return
    if not found.metered:
        click.echo(f"Tenant {tenant_id} is not metered: it sends without limit (a top-up meters it).")
        return
    click.echo(f"Tenant {tenant_id}: balance {found.balance:,} SMS segments "
               f"({found.topped_up:,} topped up, {found.used:,} used).")
    for row in found.topups:
        when = datetime.fromtimestamp(row["at"], UTC).strftime("%Y-%m-%d %H:%M UTC")
        click.echo(f"  top-up {when}: +{row['segments']:,} by {row['actor'] or '?'}"
                   f"{' — ' + row['note'] if row['note'] else ''}")
    for row in found.consumption:
        click.echo(f"  campaign {row['campaign_id']} '{row['name'] or ''}': {row['used']:,} used "
                   f"({row['reserved']:,} reserved, {row['refunded']:,} refunded)")
