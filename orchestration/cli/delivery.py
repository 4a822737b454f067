"""CLI commands: delivery tracking (`delivery sync`: poll statuses by SID) and the status-callback receiver
(`callbacks serve`)."""

from __future__ import annotations

import json

import click

from orchestration.cli import home_of, main
from orchestration.delivery.callbacks import CallbackServer
from orchestration.delivery.poll import PollSummary, sync_tenant


@main.group("delivery")
def delivery_group() -> None:
    """Delivery tracking: what became of the messages Twilio accepted."""


@delivery_group.command("sync")
@click.option("--tenant", "tenant_id", type=click.IntRange(min=0), default=0, show_default=True, help="Tenant id.")
@click.option("--campaign", "campaign_id", type=int, default=None, help="Only this campaign's messages.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def sync_command(ctx: click.Context, tenant_id: int, campaign_id: int | None, as_json: bool) -> None:
    """Fetch, by SID, the status of every message whose delivery is not final and whose check is due."""
    home = home_of(ctx)

    def progress(summary: PollSummary) -> None:
        if not as_json:
            click.echo(f"  batch {summary.batches}: {summary.checked} checked, {summary.changed} changed, "
                       f"{summary.fetch_failures} fetches failed", err=True)

    summary = sync_tenant(home, tenant_id, campaign_id=campaign_id, on_batch=progress)
    if as_json:
        click.echo(json.dumps(summary.as_dict()))
        return
    by_status = ", ".join(f"{status} {n}" for status, n in sorted(summary.statuses.items())) or "nothing due"
    click.echo(f"Tenant {tenant_id}: {summary.checked} messages checked, {summary.changed} changed "
               f"({summary.final} final), {summary.unknown} unknown after the maximum age, "
               f"{summary.fetch_failures} fetches failed (checked again later). Now: {by_status}.")


@main.group("callbacks")
def callbacks_group() -> None:
    """The receiver of Twilio's status callbacks."""


@callbacks_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8090, show_default=True)
@click.option("--public-url", default=None,
              help="The receiver's public base URL when a proxy sits in front of it (signatures are checked "
                   "against the URL Twilio called).")
@click.pass_context
def serve_command(ctx: click.Context, host: str, port: int, public_url: str | None) -> None:
    """Receive Twilio's signed status callbacks (POST ...?tenant=T) until interrupted."""
    server = CallbackServer(home_of(ctx), host, port, public_url=public_url)
    click.echo(f"Status callbacks: {server.url}/twilio/status?tenant=T (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
