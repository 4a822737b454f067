"""CLI commands: delivery tracking (`delivery sync`: poll statuses by the sender's list), inbound replies
(`inbound sync`: STOP and START from the sender's inbound messages), the suppression list's history, and the
callback receiver (`callbacks serve`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from orchestration.cli import home_of, main
from orchestration.cli.messages import suppression
from orchestration.delivery.inbound_poll import sync_inbound
from orchestration.delivery.poll import PollSummary, sync_tenant
from orchestration.delivery.rules import undeliverable_numbers
from orchestration.delivery.workers import THREADS, WORKERS, CallbackWorkers
from orchestration.gateway.errors import error_meaning
from orchestration.ledger import Ledger
from orchestration.ledger.suppression import SuppressionList


@main.group("delivery")
def delivery_group() -> None:
    """Delivery tracking: what became of the messages Twilio accepted."""


@delivery_group.command("sync")
@click.option("--tenant", "tenant_id", type=click.IntRange(min=0), default=0, show_default=True, help="Tenant id.")
@click.option("--campaign", "campaign_id", type=int, default=None, help="Only this campaign's messages.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def sync_command(ctx: click.Context, tenant_id: int, campaign_id: int | None, as_json: bool) -> None:
    """Read the status of every message whose delivery is not final and whose check is due: from the sender's
    message list (a page of 1,000 per request), and by SID for those the list does not show."""
    home = home_of(ctx)

    def progress(summary: PollSummary) -> None:
        if not as_json:
            click.echo(f"  batch {summary.batches}: {summary.checked} checked, {summary.changed} changed, "
                       f"{summary.fetch_failures} reads failed, {summary.requests} requests", err=True)

    summary = sync_tenant(home, tenant_id, campaign_id=campaign_id, on_batch=progress)
    if as_json:
        click.echo(json.dumps(summary.as_dict()))
        return
    by_status = ", ".join(f"{status} {n}" for status, n in sorted(summary.statuses.items())) or "nothing due"
    click.echo(f"Tenant {tenant_id}: {summary.checked} messages checked, {summary.changed} changed "
               f"({summary.final} final), {summary.unknown} unknown after the maximum age, "
               f"{summary.fetch_failures} reads failed (checked again later), {summary.requests} requests to Twilio. "
               f"Now: {by_status}. "
               f"Campaigns paused by carrier filtering: {summary.paused}; recipients to re-send: {summary.resends}.")


@delivery_group.command("undeliverable")
@click.option("--tenant", "tenant_id", type=click.IntRange(min=0), default=0, show_default=True, help="Tenant id.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@click.pass_context
def undeliverable_command(ctx: click.Context, tenant_id: int, as_json: bool) -> None:
    """Numbers Twilio reported unknown or unreachable (30005, 30006): excluded from the tenant's audiences."""
    found = undeliverable_numbers(Ledger(home_of(ctx).ledger), tenant_id)
    if as_json:
        click.echo(json.dumps(found))
        return
    for row in found:
        marked = datetime.fromtimestamp(row["marked_at"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        click.echo(f"{row['phone_e164']}\t{row['error_code']}\t{error_meaning(row['error_code'])}\t"
                   f"{row['source_sid']}\t{marked}")
    click.echo(f"-- {len(found)} undeliverable numbers")


@main.group("inbound")
def inbound_group() -> None:
    """Inbound replies to the tenant's sender: STOP suppresses the number, START lifts only what a STOP added."""


@inbound_group.command("sync")
@click.option("--tenant", "tenant_id", type=click.IntRange(min=0), default=0, show_default=True, help="Tenant id.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def inbound_sync_command(ctx: click.Context, tenant_id: int, as_json: bool) -> None:
    """List the inbound messages to the tenant's sender since the last sync and apply their keywords once."""
    summary = sync_inbound(home_of(ctx), tenant_id)
    if as_json:
        click.echo(json.dumps(summary.as_dict()))
        return
    outcomes = ", ".join(f"{name} {n}" for name, n in sorted(summary.outcomes.items())) or "nothing new"
    senders = ", ".join(summary.senders) or "no sender number (a Messaging Service's replies come by the webhook)"
    click.echo(f"Tenant {tenant_id} ({senders}): {summary.listed} inbound messages listed, {summary.recorded} new, "
               f"{summary.duplicates} seen before. New: {outcomes}.")


@suppression.command("history")
@click.option("--tenant", "tenant_id", type=click.IntRange(min=0), default=0, show_default=True, help="Tenant id.")
@click.option("--phone", default=None, help="Only this number's changes.")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@click.pass_context
def suppression_history_command(ctx: click.Context, tenant_id: int, phone: str | None, limit: int,
                                as_json: bool) -> None:
    """Every change of the suppression list, newest first: added or removed, by whom (source) and why."""
    changes = SuppressionList(Ledger(home_of(ctx).ledger), tenant_id).changes(phone, limit=limit)
    if as_json:
        click.echo(json.dumps([change.__dict__ for change in changes]))
        return
    for change in changes:
        click.echo(f"{change.changed_at}\t{change.phone_e164}\t{change.change}\t{change.source}\t"
                   f"{change.source_sid or '-'}\t{change.reason}")
    click.echo(f"-- {len(changes)} changes shown")


@main.group("callbacks")
def callbacks_group() -> None:
    """The receiver of Twilio's status callbacks and incoming messages."""


@callbacks_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8090, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=WORKERS, show_default=True,
              help="Receiver processes behind the port, each committing its callbacks in batches.")
@click.option("--threads", type=click.IntRange(min=1), default=THREADS, show_default=True,
              help="Request threads per process.")
@click.option("--public-url", default=None,
              help="The receiver's public base URL when a proxy sits in front of it (signatures are checked "
                   "against the URL Twilio called).")
@click.pass_context
def serve_command(ctx: click.Context, host: str, port: int, workers: int, threads: int,
                  public_url: str | None) -> None:
    """Receive Twilio's signed status callbacks (POST ...?tenant=T) and incoming messages (POST .../inbound?tenant=T)
    in several worker processes (gunicorn) until interrupted."""
    server = CallbackWorkers(home_of(ctx), host, port, workers=workers, threads=threads, public_url=public_url)
    click.echo(f"Status callbacks: {server.url}/twilio/status?tenant=T, incoming messages: "
               f"{server.url}/twilio/inbound?tenant=T ({workers} processes; Ctrl-C stops)")
    server.run()
