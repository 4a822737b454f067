"""The Dagster instance's settings for sending: at most one run per campaign and a few per tenant (tag concurrency
limits of the run queue), and the instance's storage: SQLite files in the home by default, PostgreSQL when
`BKNTC_SMS_DAGSTER_PG_URL` is set (the URL is referenced by its variable name, never written into dagster.yaml);
the run launcher named by the YAML file in `BKNTC_SMS_DAGSTER_RUN_LAUNCHER` (Docker, Kubernetes), when it is set."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import yaml

from orchestration.config import Home
from orchestration.errors import UserError

CAMPAIGN_TAG = "bkntc/campaign"
TENANT_TAG = "bkntc/tenant"
GENERATION_TAG = "bkntc/generation"
STOPPED_TAG = "bkntc/stopped"  # why the run ended: completed, paused, cancelled, waiting, lost, busy, failed
LAUNCHED_BY_TAG = "bkntc/launched_by"  # who asked for the run: a CLI user, "console", "send_queue_sensor"
REASON_TAG = "bkntc/reason"  # what asked for it: launch, resume, manual, resend, run, retry

DAGSTER_PG_URL_ENV = "BKNTC_SMS_DAGSTER_PG_URL"
PG_STORAGE_MODULE = "orchestration.defs.sending.pg_storage"
TENANT_RUNS_ENV = "BKNTC_SMS_TENANT_SEND_RUNS"
MAX_RUNS_ENV = "BKNTC_SMS_MAX_SEND_RUNS"
RUN_LAUNCHER_ENV = "BKNTC_SMS_DAGSTER_RUN_LAUNCHER"  # a YAML file: dagster.yaml's run_launcher (module, class, config)
DEFAULT_TENANT_RUNS = 2  # one tenant's campaigns take at most this many of the queue's slots at once
DEFAULT_MAX_RUNS = 8


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise UserError(f"{name} must be a whole number of runs, at least 1 (got {raw!r}).")
    return int(raw)


def _run_launcher() -> dict | None:
    """The run launcher block of the YAML file named by `BKNTC_SMS_DAGSTER_RUN_LAUNCHER` (None when unset)."""
    raw = os.environ.get(RUN_LAUNCHER_ENV, "").strip()
    if not raw:
        return None
    try:
        block = yaml.safe_load(Path(raw).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"{RUN_LAUNCHER_ENV} names {raw}, which is not a readable YAML file: {exc}") from None
    if not (isinstance(block, dict) and isinstance(block.get("module"), str) and isinstance(block.get("class"), str)
            and set(block) <= {"module", "class", "config"}):  # fmt: skip
        raise UserError(f"{RUN_LAUNCHER_ENV}: {raw} must hold a run launcher as dagster.yaml's run_launcher takes it "
                        "(module, class and optional config), e.g. module: dagster_docker, class: DockerRunLauncher.")
    return block


def instance_settings() -> dict:
    """dagster.yaml: queued runs, at most one in progress per campaign and `BKNTC_SMS_TENANT_SEND_RUNS` (default 2)
    per tenant out of `BKNTC_SMS_MAX_SEND_RUNS` (default 8), so one tenant's big campaigns cannot starve the others;
    run, event-log and schedule storage on PostgreSQL when `BKNTC_SMS_DAGSTER_PG_URL` is set; the run launcher of
    `BKNTC_SMS_DAGSTER_RUN_LAUNCHER`'s file when it is set (every process that shares the home must see the same
    file, or each would rewrite dagster.yaml its own way)."""
    max_runs = _positive_int(MAX_RUNS_ENV, DEFAULT_MAX_RUNS)
    tenant_runs = min(_positive_int(TENANT_RUNS_ENV, DEFAULT_TENANT_RUNS), max_runs)
    settings: dict = {
        "run_coordinator": {
            "module": "dagster.core.run_coordinator",
            "class": "QueuedRunCoordinator",
            "config": {
                "max_concurrent_runs": max_runs,
                "tag_concurrency_limits": [
                    {"key": CAMPAIGN_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1},
                    {"key": TENANT_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": tenant_runs},
                ],
            },
        },
        "telemetry": {"enabled": False},
    }
    if os.environ.get(DAGSTER_PG_URL_ENV, "").strip():
        # dagster-postgres reads the URL from the environment of each process (webserver, daemon, run workers), on
        # the psycopg2 driver it needs (pg_storage.py: SQLAlchemy 2.1 would pick psycopg 3 for postgresql://).
        settings["storage"] = {"custom": {"module": PG_STORAGE_MODULE, "class": "PostgresStorage",
                                          "config": {"postgres_url": {"env": DAGSTER_PG_URL_ENV}}}}  # fmt: skip
    if (launcher := _run_launcher()) is not None:
        settings["run_launcher"] = launcher
    return settings


def write_instance_config(home: Home) -> Path:
    """Writes `dagster.yaml` into the home's Dagster instance folder (DAGSTER_HOME) when it is missing or says
    something else than `instance_settings()`, atomically; returns its path."""
    home.ensure()
    path = home.dagster_home / "dagster.yaml"
    text = yaml.safe_dump(instance_settings(), sort_keys=False)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        pending = path.with_suffix(f".yaml.{os.getpid()}")  # a process reading it never sees half a file
        pending.write_text(text, encoding="utf-8")
        os.replace(pending, path)
    if not os.environ.get(DAGSTER_PG_URL_ENV, "").strip():
        prepare_sqlite_storage(home.dagster_home)
    return path


# The files of Dagster's SQLite storage (run, event-log index, schedule); all there: the storage was created.
SQLITE_STORAGE_FILES = ("history/runs.db", "history/runs/index.db", "schedules/schedules.db")


def prepare_sqlite_storage(dagster_home: Path) -> None:
    """Creates the instance's SQLite storage once, under a lock, before any Dagster process uses it: processes that
    start together on a fresh home (webserver, daemon, code server, a CLI) would otherwise each create and stamp
    the same databases, which leaves alembic's version table with two heads and the storage unusable."""
    if all((dagster_home / name).is_file() for name in SQLITE_STORAGE_FILES):
        return
    with (dagster_home / ".storage.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if all((dagster_home / name).is_file() for name in SQLITE_STORAGE_FILES):
            return
        from dagster import DagsterInstance  # only on a fresh home: importing Dagster costs seconds

        with DagsterInstance.from_config(str(dagster_home)) as instance:
            instance.get_runs(limit=1)
            instance.event_log_storage.get_asset_records()
            instance.all_instigator_state()
