"""CLI commands: recurring campaigns (`bkntc-sms recurring add|list|pause|resume|remove`)."""

from __future__ import annotations

import json
import time

import click

from orchestration.audiences import AudienceQuery
from orchestration.cli import home_of, main
from orchestration.cli.audiences import audience_options
from orchestration.ledger import Ledger
from orchestration.recurring import definitions
from orchestration.recurring.definitions import DEFAULT_MAX_LATENESS_S, RecurringCampaign, parse_schedule
from orchestration.sender.schedule import format_instant, format_lateness, parse_lateness

_tenant = click.option("--tenant", "tenant_id", type=int, required=True, help="Tenant id (0 on a single site).")
_json = click.option("--json", "as_json", is_flag=True, help="Print one JSON object (list: an array).")


def _line(found: RecurringCampaign, now: float) -> str:
    upcoming = (f"next {format_instant(found.next_at(max(now, found.evaluated_at)), found.timezone)}"
                if found.state == "active" else found.state)  # fmt: skip
    last = (f"; last: campaign {found.last_campaign_id} ({found.last_campaign_state}) of "
            f"{format_instant(found.last_occurrence_at, found.timezone)}" if found.last_campaign_id else "")
    return (f"Recurring {found.recurring_id} '{found.name}': {found.audience['segment']} at '{found.cron}' "
            f"({found.timezone}), {upcoming}{last}")


def _document(found: RecurringCampaign, now: float) -> dict:
    values = found.as_dict()
    values["next_at"] = found.next_at(max(now, found.evaluated_at)) if found.state == "active" else None
    return values


@main.group("recurring")
def recurring_group() -> None:
    """Recurring campaigns: a campaign made at each time of a schedule (cron or 'day at 10:00'), to an audience
    evaluated afresh each time, never messaging anyone twice for the same appointment."""


@recurring_group.command("add")
@_tenant
@click.option("--name", required=True, help="A name people will recognise (each occurrence adds its date).")
@audience_options(as_of_help="Not taken: each occurrence's windows are relative to its own time.")
@click.option("--template", required=True, help="The message, with Booknetic shortcodes such as {appointment_date}.")
@click.option("--cron", default=None, help="Five cron fields in --timezone, e.g. '0 10 * * *' (every day at 10:00).")
@click.option("--every", default=None, help="Instead of --cron: 'day at 10:00', 'weekday at 9:30', 'monday' (10:00).")
@click.option("--timezone", default=None, help="IANA zone of the times (default: the tenant's time zone).")
@click.option("--max-lateness", default=None,
              help=f"Skip an occurrence not started within this of its time (default "
                   f"{format_lateness(DEFAULT_MAX_LATENESS_S)}; off: however late).")
@_json
@click.pass_context
def add_command(ctx: click.Context, tenant_id: int, name: str, query: AudienceQuery, template: str, cron: str | None,
                every: str | None, timezone: str | None, max_lateness: str | None, as_json: bool) -> None:  # fmt: skip
    """Add a recurring campaign; its first occurrence is the schedule's first time from now."""
    lateness = DEFAULT_MAX_LATENESS_S if max_lateness is None else parse_lateness(max_lateness)
    found = definitions.add(Ledger(home_of(ctx).ledger), tenant_id, name, parse_schedule(cron, every), query,
                            template, timezone=timezone, max_lateness_s=lateness)  # fmt: skip
    now = time.time()
    click.echo(json.dumps(_document(found, now)) if as_json else _line(found, now))


@recurring_group.command("list")
@_tenant
@click.option("--all", "with_removed", is_flag=True, help="Removed ones too.")
@_json
@click.pass_context
def list_command(ctx: click.Context, tenant_id: int, with_removed: bool, as_json: bool) -> None:
    """The tenant's recurring campaigns, their next time and latest occurrence."""
    found = definitions.list_recurring(Ledger(home_of(ctx).ledger), tenant_id, with_removed)
    now = time.time()
    if as_json:
        click.echo(json.dumps([_document(item, now) for item in found]))
        return
    for item in found:
        click.echo(_line(item, now))
    if not found:
        click.echo(f"Tenant {tenant_id} has no recurring campaigns.")


def _state_command(name: str, action, help_text: str) -> None:
    @recurring_group.command(name, help=help_text)
    @click.argument("recurring_id", type=int)
    @_tenant
    @_json
    @click.pass_context
    def command(ctx: click.Context, recurring_id: int, tenant_id: int, as_json: bool) -> None:
        found = action(Ledger(home_of(ctx).ledger), tenant_id, recurring_id)
        now = time.time()
        click.echo(json.dumps(_document(found, now)) if as_json else _line(found, now))


_state_command("pause", definitions.pause, "Make no more occurrences until resumed.")
_state_command("resume", definitions.resume, "Make occurrences again from the next time on (none made up).")
_state_command("remove", definitions.remove, "Make no more occurrences, for good (its campaigns stay).")
