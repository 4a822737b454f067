"""CLI commands: campaigns (create, launch, resend, pause, resume, cancel, run, status, list), test and manual sends,
and the delivery-log export."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from orchestration.audiences import AudienceQuery
from orchestration.cli import home_of, main
from orchestration.cli.audiences import audience_options
from orchestration.config import Home
from orchestration.delivery.funnel import delivery_funnel
from orchestration.delivery.rules import sender_alert
from orchestration.errors import UserError
from orchestration.gateway.errors import error_meaning
from orchestration.ledger import Ledger
from orchestration.sender import (
    DEFAULT_RESEND,
    RESEND_OUTCOMES,
    Campaign,
    CampaignSettings,
    RunSummary,
    cancel,
    create_campaign,
    export_csv,
    get_campaign,
    launch,
    list_campaigns,
    pause,
    read_people_csv,
    resend,
    resend_outcomes,
    resume,
    run_campaign,
    send_manual,
    send_test,
    status,
)
from orchestration.sender.campaigns import company_details
from orchestration.sender.gates import ON_CAP
from orchestration.sender.schedule import (
    DEFAULT_MAX_LATENESS_S,
    FREEZE_AT,
    Schedule,
    format_instant,
    format_lateness,
    parse_lateness,
    parse_send_at,
)
from orchestration.tenants import get_settings
from orchestration.warehouse import Warehouse

_tenant = click.option("--tenant", "tenant_id", type=int, required=True, help="Tenant id (0 on a single site).")
_json = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
PROGRESS_EVERY_S = 0.5


def _campaign_line(campaign: Campaign, zone: str | None = None) -> str:
    reason = f" ({campaign.pause_reason})" if campaign.pause_reason else ""
    origin = f", a resend of campaign {campaign.origin_campaign_id}" if campaign.origin_campaign_id else ""
    schedule = _schedule(campaign, zone)
    return f"Campaign {campaign.campaign_id} '{campaign.name}': {campaign.state}{reason}{origin}{schedule}"


def _schedule(campaign: Campaign, zone: str | None) -> str:
    if campaign.send_at is None:
        return ""
    frozen = "audience frozen at send time" if campaign.freeze_at == "send" else "audience frozen at launch"
    return (f"; scheduled for {format_instant(campaign.send_at, zone)} (max lateness "
            f"{format_lateness(campaign.max_lateness_s)}, {frozen})")


def _zone(ctx: click.Context, tenant_id: int) -> str | None:
    return get_settings(Ledger(home_of(ctx).ledger), tenant_id).timezone


def _echo_campaign(campaign: Campaign, as_json: bool, zone: str | None = None) -> None:
    if as_json:
        click.echo(json.dumps(_public(campaign)))
    else:
        click.echo(_campaign_line(campaign, zone))


def _public(campaign: Campaign) -> dict:
    values = {k: v for k, v in campaign.as_dict().items() if k not in ("runner_host", "runner_pid", "runner_id")}
    if campaign.send_at is not None:
        values["send_at_iso"] = datetime.fromtimestamp(campaign.send_at, UTC).isoformat()
    return values


@main.group("campaign")
def campaign_group() -> None:
    """Create, launch, run and watch SMS campaigns."""


@campaign_group.command("create")
@_tenant
@click.option("--name", required=True, help="A name people will recognise.")
@audience_options(as_of_help="ISO-8601 instant the windows are relative to (default: launch time).")
@click.option("--template", required=True, help="The message, with Booknetic shortcodes such as {customer_name}.")
@click.option("--max-attempts", type=int, default=None, help="Tries per recipient (default: tenant setting, 3).")
@click.option("--retry-base-seconds", type=float, default=None, help="First retry delay, doubled each time.")
@click.option("--rate", type=float, default=None, help="Messages per second (default: tenant setting; 0 = none).")
@click.option("--send-at", default=None,
              help="Send at this ISO 8601 time (with an offset or Z; without one: the tenant's time zone).")
@click.option("--max-lateness", default=None,
              help=f"Not sent if it would start later than this after --send-at (default "
                   f"{format_lateness(DEFAULT_MAX_LATENESS_S)}; off: send however late).")
@click.option("--freeze-at", type=click.Choice(FREEZE_AT), default="send", show_default=True,
              help="Freeze a scheduled campaign's audience at its send time, or when it is launched (schedule).")
@click.option("--quiet-hours", default=None, metavar="HH:MM-HH:MM|off",
              help="This campaign's sending window in the recipient's local time (default: the tenant's).")
@click.option("--on-cap", type=click.Choice(ON_CAP), default="skip", show_default=True,
              help="A recipient at the tenant's frequency cap is skipped, or deferred until the cap frees up.")
@_json
@click.pass_context
def create_command(
    ctx: click.Context, tenant_id: int, name: str, query: AudienceQuery, template: str, max_attempts: int | None,
    retry_base_seconds: float | None, rate: float | None, send_at: str | None, max_lateness: str | None,
    freeze_at: str, quiet_hours: str | None, on_cap: str, as_json: bool,
) -> None:  # fmt: skip
    """Create a draft campaign for a segment (launch it to freeze its recipients, or to queue it for --send-at)."""
    settings = CampaignSettings(max_attempts=max_attempts, retry_base_seconds=retry_base_seconds, rate_limit_per_s=rate,
                                quiet_hours=quiet_hours, on_cap=on_cap)  # fmt: skip
    ledger = Ledger(home_of(ctx).ledger)
    zone = get_settings(ledger, tenant_id).timezone
    schedule = None
    if send_at is not None:
        lateness = DEFAULT_MAX_LATENESS_S if max_lateness is None else parse_lateness(max_lateness)
        schedule = Schedule(parse_send_at(send_at, zone), lateness, freeze_at)
    elif max_lateness is not None:
        raise UserError("--max-lateness only applies with --send-at.")
    campaign = create_campaign(ledger, tenant_id, name, template, query, settings, schedule=schedule)
    _echo_campaign(campaign, as_json, zone)


@campaign_group.command("launch")
@click.argument("campaign_id", type=int)
@_tenant
@click.option("--queue-only", is_flag=True,
              help="Only freeze and queue it: the Dagster sensor or `campaign run` sends it later.")  # fmt: skip
@_json
@click.pass_context
def launch_command(ctx: click.Context, campaign_id: int, tenant_id: int, queue_only: bool, as_json: bool) -> None:
    """Freeze the audience with rendered messages and start its send run (a Dagster run) at once."""
    from orchestration.defs.launch import launch_send_run  # Dagster: only for commands that send

    home = home_of(ctx)
    campaign = launch(Ledger(home.ledger), Warehouse(home.warehouse), tenant_id, campaign_id)
    if alert := sender_alert(Ledger(home.ledger), tenant_id):
        click.echo(f"Warning: {alert.describe()}", err=True)
    if campaign.send_at is not None and campaign.send_at > time.time():  # the sensor starts its run when it is due
        if not as_json:
            frozen = ("its audience is frozen then" if campaign.freeze_pending
                      else f"{campaign.recipient_count} recipients frozen")  # fmt: skip
            click.echo(f"Campaign {campaign_id}: queued for {format_instant(campaign.send_at, _zone(ctx, tenant_id))}; "
                       f"{frozen}.")
            return
        _echo_campaign(campaign, as_json)
        return
    run_id = None if queue_only else launch_send_run(home, tenant_id, campaign_id, "launch")
    if not as_json:
        sending = f"sending in Dagster run {run_id}" if run_id else "queued for sending"
        click.echo(f"Campaign {campaign_id}: {campaign.recipient_count} recipients frozen; {sending}.")
        return
    _echo_campaign(campaign, as_json)


_ONLY_HELP = "; ".join(f"{name}: {meaning}" for name, meaning in RESEND_OUTCOMES.items())


@campaign_group.command("resend")
@click.argument("campaign_id", type=int)
@_tenant
@click.option("--only", default=",".join(DEFAULT_RESEND), show_default=True,
              help=f"Which recipients did not get it, comma-separated. {_ONLY_HELP}.")  # fmt: skip
@click.option("--template", default=None,
              help="A new text (customer name/phone and company shortcodes); default: each one's message again.")
@click.option("--name", default=None, help="The new campaign's name (default: the origin's name + ' (resend)').")
@click.option("--queue-only", is_flag=True,
              help="Only queue it: the Dagster sensor or `campaign run` sends it later.")  # fmt: skip
@_json
@click.pass_context
def resend_command(
    ctx: click.Context, campaign_id: int, tenant_id: int, only: str, template: str | None, name: str | None,
    queue_only: bool, as_json: bool,
) -> None:  # fmt: skip
    """A new campaign to the recipients of CAMPAIGN_ID that did not get it, minus anyone suppressed since and numbers
    that cannot receive SMS, sent at once in a Dagster run."""
    home = home_of(ctx)
    outcomes = resend_outcomes(only)
    warehouse = Warehouse(home.warehouse)
    company = company_details(warehouse, tenant_id) if template is not None and warehouse.exists else {}
    campaign = resend(Ledger(home.ledger), tenant_id, campaign_id, outcomes, template, name, company)
    run_id = None
    if not queue_only:
        from orchestration.defs.launch import launch_send_run  # Dagster: only for commands that send

        run_id = launch_send_run(home, tenant_id, campaign.campaign_id, "resend")
    if as_json:
        _echo_campaign(campaign, as_json)
        return
    left = ", ".join(f"{n} {why}" for why, n in campaign.excluded.items())
    sending = f"sending in Dagster run {run_id}" if run_id else "queued for sending"
    click.echo(f"Campaign {campaign.campaign_id} '{campaign.name}': {campaign.recipient_count} recipients of "
               f"campaign {campaign_id}; {sending}" + (f" ({left} left out)." if left else "."))


def _lifecycle_command(name: str, action, help_text: str) -> None:
    @campaign_group.command(name, help=help_text)
    @click.argument("campaign_id", type=int)
    @_tenant
    @_json
    @click.pass_context
    def command(ctx: click.Context, campaign_id: int, tenant_id: int, as_json: bool) -> None:
        home = home_of(ctx)
        campaign = action(Ledger(home.ledger), tenant_id, campaign_id)
        if action is resume:  # a resumed campaign is sent at once, in a Dagster run
            from orchestration.defs.launch import launch_send_run

            launch_send_run(home, tenant_id, campaign_id, "resume")
        _echo_campaign(campaign, as_json)


_lifecycle_command("pause", pause, "Stop sending after the chunk in flight (resume picks up where it stopped).")
_lifecycle_command("resume", resume, "Re-queue a paused campaign and start its send run.")
_lifecycle_command("cancel", cancel, "Stop a campaign for good; its unsent recipients are skipped.")


@campaign_group.command("run")
@click.argument("campaign_id", type=int)
@_tenant
@_json
@click.pass_context
def run_command(ctx: click.Context, campaign_id: int, tenant_id: int, as_json: bool) -> None:
    """Work the campaign in the foreground until it completes, pauses or is cancelled (waits out retries).
    A scheduled campaign is refused before its send time (the send sensor starts it then)."""
    home = home_of(ctx)
    summary = _run_with_progress(home, tenant_id, campaign_id, show=not as_json)
    if summary.stopped == "scheduled":
        when = format_instant(summary.next_due_at or 0.0, _zone(ctx, tenant_id))
        raise UserError(f"Campaign {campaign_id} is scheduled for {when}: it is not sent before then (the send "
                        "sensor starts it at that time; `campaign run` works from then on).")
    if as_json:
        click.echo(json.dumps(summary.as_dict()))
    else:
        click.echo(_summary_line(summary))
    if summary.stopped == "busy":
        raise UserError(f"Campaign {campaign_id} is being sent by another run right now.")


def _run_with_progress(home: Home, tenant_id: int, campaign_id: int, show: bool, reason: str = "run") -> RunSummary:
    """Runs the send job in the foreground (a run in the home's Dagster instance) with a progress bar."""
    from orchestration.defs.launch import run_send_job_here

    ledger = Ledger(home.ledger)
    before = status(ledger, tenant_id, campaign_id)
    total = before.campaign.recipient_count
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    outcome: dict = {}

    def work() -> None:
        try:
            outcome["summary"] = run_send_job_here(home, tenant_id, campaign_id, reason)[1]
        except BaseException as exc:  # re-raised below, in the command's thread
            outcome["error"] = exc

    with Progress(*columns, console=Console(stderr=True), disable=not show, transient=False) as bar:
        task = bar.add_task(f"campaign {campaign_id}", total=total)
        worker = threading.Thread(target=work, name=f"send-run-{campaign_id}", daemon=True)
        worker.start()
        while worker.is_alive():
            counts = status(ledger, tenant_id, campaign_id).counts
            bar.update(task, completed=total - counts["pending"] - counts["sending"])
            worker.join(PROGRESS_EVERY_S)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["summary"]


def _summary_line(summary: RunSummary) -> str:
    codes = ", ".join(f"{code}x{n}" for code, n in summary.error_codes.items()) or "none"
    reason = f" ({summary.pause_reason})" if summary.pause_reason else ""
    return (
        f"Campaign {summary.campaign_id} {summary.stopped}{reason}: sent {summary.sent}, failed {summary.failed}, "
        f"skipped {summary.skipped}, retried {summary.retried}, recovered {summary.recovered}; "
        f"error codes: {codes}; {summary.throughput:.1f} msg/s"
    )


@campaign_group.command("status")
@click.argument("campaign_id", type=int)
@_tenant
@_json
@click.pass_context
def status_command(ctx: click.Context, campaign_id: int, tenant_id: int, as_json: bool) -> None:
    """Counts by recipient state, attempts and error codes."""
    ledger = Ledger(home_of(ctx).ledger)
    current = status(ledger, tenant_id, campaign_id)
    funnel = delivery_funnel(ledger, tenant_id, campaign_id)
    alert = sender_alert(ledger, tenant_id)
    if as_json:
        click.echo(json.dumps({**current.as_dict(), "funnel": funnel.as_dict(),
                               "sender_alert": alert.as_dict() if alert else None}))
        return
    click.echo(_campaign_line(current.campaign, _zone(ctx, tenant_id)))
    click.echo("  " + ", ".join(f"{state} {n}" for state, n in current.counts.items()))
    if current.skipped_by_reason:
        click.echo("  skipped: " + ", ".join(f"{r} {n}" for r, n in current.skipped_by_reason.items()))
    click.echo(f"  attempts {current.attempts}, retries {current.retries}, segments sent {current.segments_sent}")
    if current.error_codes:
        click.echo("  error codes:")
        for code, n in current.error_codes.items():
            meaning = error_meaning(int(code)) if code.isdigit() else None
            click.echo(f"    {code} x{n}" + (f": {meaning}" if meaning else ""))
    if funnel.accepted:
        rate = "—" if funnel.delivery_rate is None else f"{funnel.delivery_rate:.1%}"
        click.echo(f"  delivery: accepted {funnel.accepted}, delivered {funnel.delivered}, undelivered "
                   f"{funnel.undelivered}, failed {funnel.failed}, unknown {funnel.unknown}, in flight "
                   f"{funnel.in_flight}; delivery rate {rate}")
    if alert:
        click.echo(f"  WARNING: {alert.describe()}")


@campaign_group.command("list")
@_tenant
@_json
@click.pass_context
def list_command(ctx: click.Context, tenant_id: int, as_json: bool) -> None:
    """The tenant's campaigns, newest first."""
    campaigns = list_campaigns(Ledger(home_of(ctx).ledger), tenant_id)
    if as_json:
        click.echo(json.dumps([_public(c) for c in campaigns]))
        return
    table = Table()
    for column in ("id", "name", "kind", "state", "recipients", "resend of", "scheduled for", "created"):
        table.add_column(column)
    zone = _zone(ctx, tenant_id)
    for c in campaigns:
        origin = str(c.origin_campaign_id) if c.origin_campaign_id else ""
        when = format_instant(c.send_at, zone) if c.send_at is not None else ""
        table.add_row(str(c.campaign_id), c.name, c.kind, c.state, str(c.recipient_count), origin, when, c.created_at)
    Console().print(table)


@main.command("send-test")
@_tenant
@click.option("--to", "to", required=True, help="The phone number to send the test to.")
@click.option("--template", required=True, help="The message; shortcodes are filled from a sample recipient.")
@_json
@click.pass_context
def send_test_command(ctx: click.Context, tenant_id: int, to: str, template: str, as_json: bool) -> None:
    """Send one test message now (logged like any campaign, suppression list respected)."""
    home = home_of(ctx)
    ledger = Ledger(home.ledger)
    campaign = send_test(ledger, Warehouse(home.warehouse), tenant_id, to, template)
    summary = run_campaign(home, tenant_id, campaign.campaign_id, max_wait_s=0)
    from orchestration.defs.launch import record_test_send

    record_test_send(home, tenant_id, campaign.campaign_id)
    _report_send(summary, as_json)


@main.command("send-manual")
@_tenant
@click.option("--to", "numbers", multiple=True, help="A phone number (repeat the option for more).")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False), default=None,
              help="A CSV file with a phone column and, optionally, a name column.")  # fmt: skip
@click.option("--template", required=True, help="The message; {customer_name} etc. come from the names given.")
@click.option("--name", default="Manual send", show_default=True, help="The campaign's name.")
@click.option("--queue-only", is_flag=True, help="Queue it for the background sender instead of sending now.")
@_json
@click.pass_context
def send_manual_command(
    ctx: click.Context, tenant_id: int, numbers: tuple[str, ...], csv_file: str | None, template: str, name: str,
    queue_only: bool, as_json: bool,
) -> None:  # fmt: skip
    """Send one message to a typed list or a CSV of numbers (no segment)."""
    if bool(numbers) == bool(csv_file):
        raise UserError("Give the numbers with --to (repeatable) or --csv FILE, not both.")
    people = [(n, "") for n in numbers] if numbers else read_people_csv(csv_file)
    home = home_of(ctx)
    campaign = send_manual(Ledger(home.ledger), tenant_id, people, template, name, warehouse=Warehouse(home.warehouse))
    if queue_only:
        _echo_campaign(campaign, as_json)
        return
    _report_send(_run_with_progress(home, tenant_id, campaign.campaign_id, show=not as_json, reason="manual"),
                 as_json)


def _report_send(summary: RunSummary, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(summary.as_dict()))
    else:
        click.echo(_summary_line(summary))


@main.group("logs")
def logs_group() -> None:
    """Per-recipient delivery logs."""


@logs_group.command("export")
@click.argument("campaign_id", type=int)
@_tenant
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The CSV file to write.")
@click.pass_context
def export_command(ctx: click.Context, campaign_id: int, tenant_id: int, out: str) -> None:
    """Write the campaign's delivery log (one row per recipient) to a CSV file."""
    ledger = Ledger(home_of(ctx).ledger)
    campaign = get_campaign(ledger, tenant_id, campaign_id)
    rows = export_csv(ledger, tenant_id, campaign_id, out)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    click.echo(f"Wrote {rows} recipients of campaign {campaign.campaign_id} to {out} ({stamp} UTC).")
