"""CLI commands: sync (materializes the Dagster sync and segment assets in-process, with a progress display)."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from orchestration.cli import home_of, main
from orchestration.config import Home
from orchestration.errors import UserError
from orchestration.source import open_source
from orchestration.warehouse.source_spec import write_spec_file
from orchestration.warehouse.sync import PROGRESS_LOGGER, StepReport, parse_as_of

if TYPE_CHECKING:
    import dagster as dg


class _StepLines(logging.Handler):
    """Prints one line per finished sync step, with the time elapsed since the sync began."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.started = time.perf_counter()

    def emit(self, record: logging.LogRecord) -> None:
        step: StepReport | None = getattr(record, "step_report", None)
        if step is None:
            return
        elapsed = time.perf_counter() - self.started
        click.echo(f"  [{elapsed:7.1f}s] {step.step:<6} {step.table:<18} {step.rows:>12,} rows  ({step.seconds:.2f}s)")


def _user_error(exc: BaseException) -> UserError | None:
    """The UserError that made a Dagster step fail, if that is what happened."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, UserError):
            return exc
        seen.add(id(exc))
        exc = getattr(exc, "user_exception", None) or exc.__cause__ or exc.__context__
    return None


def _quiet_dagster_home(home: Home) -> None:
    """Points Dagster at the home's instance, its dagster.yaml written as every other entry point writes it (a sync
    that runs first must not leave an instance without the send queue's limits)."""
    from orchestration.defs.sending.instance import write_instance_config

    os.environ["DAGSTER_HOME"] = str(home.dagster_home)
    write_instance_config(home)


def materialize_sync(home: Home, source_file: Path, as_of: str) -> dg.ExecuteInProcessResult:
    """Materializes the sync and segment assets with their checks in-process, in the home's Dagster instance.

    The run lands in the same instance the webserver and daemon use, so a CLI sync shows up in the Dagster UI
    with its metadata and check results, like a scheduled one. The source spec is handed over in a 0600 file,
    never in the run config, which Dagster stores in clear.
    """
    import dagster as dg  # imported here: Dagster takes seconds to import, and only this command needs it

    from orchestration.defs.audiences.assets import segments
    from orchestration.defs.resources import resources_for
    from orchestration.defs.sync.definitions import SYNC_ASSETS, SYNC_CHECKS

    op_config = {"config": {"source_file": str(source_file), "as_of": as_of}}
    run_config = {
        "ops": {"booknetic_raw": op_config, "warehouse_cleaned": op_config, "segments": {"config": {"as_of": as_of}}},
        "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},
    }
    _quiet_dagster_home(home)
    with dg.DagsterInstance.get() as instance:
        try:
            return dg.materialize(
                [*SYNC_ASSETS, segments, *SYNC_CHECKS],
                resources=resources_for(home.root),
                run_config=run_config,
                instance=instance,
                tags={"bkntc-sms/trigger": "cli"},
            )
        except Exception as exc:
            cause = _user_error(exc)
            if cause is not None:
                raise UserError(str(cause)) from None
            raise


@main.command()
@click.option("--source", "source", required=True, metavar="DIR|URL",
              help="A snapshot folder of Booknetic table exports, or mysql://user:pass@host:port/db?prefix=wp_")
@click.option("--as-of", "as_of", default="", metavar="ISO",
              help="The instant customer facts are computed for (ISO-8601, UTC if no offset). Default: now.")
@click.pass_context
def sync(ctx: click.Context, source: str, as_of: str) -> None:
    """Copy a Booknetic source into the warehouse and remember it for the hourly refresh."""
    home = home_of(ctx)
    as_of_utc = parse_as_of(as_of)
    open_source(source).close()  # a missing table or a wrong header fails here, in a second, before Dagster starts
    click.echo(f"Syncing into {home.warehouse} (as of {as_of_utc.isoformat()}Z)")
    lines = _StepLines()
    progress_log = logging.getLogger(PROGRESS_LOGGER)
    progress_log.addHandler(lines)
    progress_log.setLevel(logging.INFO)
    pending = home.source_file.with_name(home.source_file.name + ".pending")
    write_spec_file(pending, source)
    try:
        result = materialize_sync(home, pending, as_of_utc.isoformat())
        os.replace(pending, home.source_file)
    finally:
        progress_log.removeHandler(lines)
        pending.unlink(missing_ok=True)
    _summary(result, time.perf_counter() - lines.started)


def _summary(result: dg.ExecuteInProcessResult, seconds: float) -> None:
    click.echo(f"Done in {seconds:.1f}s.")
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        rows = materialization.metadata.get("rows")
        recipients = materialization.metadata.get("recipients")
        name = materialization.asset_key.to_user_string()
        if rows is not None and name != "booknetic_raw":
            click.echo(f"  {name:<30} {rows.value:>12,} rows")
        elif recipients is not None:
            click.echo(f"  {name:<30} {recipients.value:>12,} recipients")
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            click.echo(f"  warning: check {evaluation.check_name} on {evaluation.asset_key.to_user_string()} "
                       f"did not pass ({_brief(evaluation.metadata)})")


def _brief(metadata: dict) -> str:
    return ", ".join(f"{key}={value.value}" for key, value in metadata.items()
                     if isinstance(value.value, int | float) and key != "threshold")
