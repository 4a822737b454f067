"""CLI commands: audiences (`bkntc-sms preview`)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import UTC, datetime

import click
import pandas as pd
from rich.console import Console
from rich.table import Table

from orchestration.audiences import SEGMENTS, AudienceQuery, Preview, parse_as_of, preview
from orchestration.cli import home_of, main
from orchestration.credits import balance
from orchestration.ledger import Ledger
from orchestration.messages.shortcodes import check_template
from orchestration.sender.campaigns import estimate
from orchestration.warehouse import Warehouse

_SAMPLE_COLUMNS = {"customer_id": "customer", "phone_e164": "phone", "full_name": "name"}
_ANCHOR_COLUMNS = {"anchor_appointment_id": "appointment", "anchor_starts_at": "starts (UTC)",
                   "anchor_status": "status", "service_name": "service"}  # fmt: skip


def audience_options(as_of_help: str) -> Callable[[Callable], Callable]:
    """The audience options shared by `preview` and `campaign create`, handed to the command as one `query`.

    The command must also take `--tenant` (as `tenant_id`), which scopes the query.
    """
    options = (
        click.option("--segment", required=True, help=f"One of: {', '.join(SEGMENTS)}."),
        click.option("--days", type=int, default=None, help="Window in days (segments that take one)."),
        click.option("--min", "min_count", type=int, default=None, help="Minimum appointments (repeat)."),
        click.option("--service", "service_ids", type=int, multiple=True, help="Only appointments of this service id."),
        click.option("--location", "location_ids", type=int, multiple=True,
                     help="Only appointments at this location id."),
        click.option("--status", "statuses", multiple=True, help="Only appointments with this status slug."),
        click.option("--min-appointments", type=int, default=None, help="At least N appointments in the filtered set."),
        click.option("--exclude-suppressed", is_flag=True, help="Subtract the tenant's suppression list."),
        click.option("--as-of", default="", help=as_of_help),
    )

    def decorate(command: Callable) -> Callable:
        @functools.wraps(command)
        def with_query(*args, segment: str, days: int | None, min_count: int | None, service_ids: tuple[int, ...],
                       location_ids: tuple[int, ...], statuses: tuple[str, ...], min_appointments: int | None,
                       exclude_suppressed: bool, as_of: str, **kwargs):
            kwargs["query"] = AudienceQuery(
                tenant_id=kwargs["tenant_id"], segment=segment, days=days, min=min_count, service_ids=service_ids,
                location_ids=location_ids, statuses=statuses, min_appointments=min_appointments,
                exclude_suppressed=exclude_suppressed, as_of=parse_as_of(as_of),
            )  # fmt: skip
            return command(*args, **kwargs)

        for option in reversed(options):
            with_query = option(with_query)
        return with_query

    return decorate


@main.command("preview")
@click.option("--tenant", "tenant_id", type=int, required=True, help="Tenant id (0 on a single site).")
@audience_options(as_of_help="ISO-8601 instant the windows are relative to (default: now, UTC).")
@click.option("--sample", type=click.IntRange(min=0), default=20, show_default=True, help="Recipients to show.")
@click.option("--template", default=None,
              help="The message: its SMS segments for every recipient are the campaign's cost in credits.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def preview_command(ctx: click.Context, tenant_id: int, query: AudienceQuery, sample: int, template: str | None,
                    as_json: bool) -> None:  # fmt: skip
    """Count an audience's recipients and exclusions, and show the first recipients by customer id."""
    home = home_of(ctx)
    ledger = Ledger(home.ledger)  # undeliverable numbers are always excluded; the suppression list when asked
    warehouse = Warehouse(home.warehouse)
    result = preview(warehouse, ledger, query, sample=sample)
    cost = None
    if template is not None:
        check_template(template)
        cost = estimate(warehouse, ledger, query, template)[1].segments
    left = balance(ledger, tenant_id)
    credits = {"metered": left is not None, "balance": left, "cost_segments": cost,
               "enough": None if left is None or cost is None else cost <= left}  # fmt: skip
    if as_json:
        click.echo(json.dumps({**preview_document(result), "credits": credits}))
    else:
        _print_table(result)
        if left is not None or cost is not None:
            Console().print(f"SMS credits: {'unlimited' if left is None else f'{left:,} segments left'}"
                            f"{'' if cost is None else f'; this campaign needs {cost:,}'}")


def preview_document(result: Preview) -> dict:
    """The preview as one JSON-ready object."""
    records = json.loads(result.sample.to_json(orient="records", date_format="iso"))
    sample = [
        {"customer_id": r["customer_id"], "phone": r["phone_e164"], "first_name": r["first_name"],
         "last_name": r["last_name"], **{k: v for k, v in r.items() if k not in ("customer_id", "phone_e164",
                                                                              "first_name", "last_name")}}
        for r in records
    ]  # fmt: skip
    return {
        "tenant": result.tenant_id,
        "segment": result.segment,
        "params": result.params,
        "as_of": result.as_of.isoformat().replace("+00:00", "Z"),
        "count": result.count,
        "excluded": result.excluded,
        "on_suppression_list": result.on_suppression_list or 0,  # no ledger yet: no list
        "deferred": {reason: {**values, **{key: _iso(values[key]) for key in ("earliest_send_at", "latest_send_at")}}
                     for reason, values in result.deferred.items()},
        "warnings": list(result.warnings),
        "sample": sample,
    }


def _iso(timestamp: float | None) -> str | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def _print_table(result: Preview) -> None:
    console = Console()
    params = ", ".join(f"{k}={v}" for k, v in result.params.items() if v not in (None, [], False))
    console.print(
        f"[bold]{result.segment}[/bold] (tenant {result.tenant_id}, as of {result.as_of:%Y-%m-%d %H:%M:%S} UTC"
        f"{', ' + params if params else ''})"
    )
    excluded = ", ".join(f"{reason} {n}" for reason, n in result.excluded.items())
    console.print(f"[bold]{result.count}[/bold] recipients; excluded: {excluded}")
    for warning in result.warnings:
        console.print(f"[yellow]Warning:[/yellow] {warning}")
    quiet = result.deferred.get("quiet_hours") or {}
    if quiet.get("count"):
        console.print(f"{quiet['count']} recipients are outside their quiet-hours window at that time: deferred "
                      f"until {_iso(quiet['earliest_send_at'])} (the last until {_iso(quiet['latest_send_at'])}).")
    if result.on_suppression_list and not result.excluded["suppressed"]:
        console.print(f"{result.on_suppression_list} of them are on the suppression list: they are skipped at "
                      "send time (--exclude-suppressed leaves them out of the count).")
    anchored = SEGMENTS[result.segment].appointment_based
    columns = {**_SAMPLE_COLUMNS, **(_ANCHOR_COLUMNS if anchored else {})}
    shown = result.sample[list(columns)].copy()
    if anchored:
        shown["anchor_starts_at"] = pd.to_datetime(shown["anchor_starts_at"], unit="s").dt.strftime("%Y-%m-%d %H:%M")
    table = Table()
    for column, title in columns.items():
        table.add_column(title, no_wrap=column in ("customer_id", "phone_e164", "anchor_starts_at"))
    for row in shown.itertuples(index=False):
        table.add_row(*("" if value is None or value != value else str(value) for value in row))
    console.print(table)
