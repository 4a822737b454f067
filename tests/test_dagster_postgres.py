"""Dagster's storage on a real PostgreSQL server (`BKNTC_SMS_DAGSTER_PG_URL`): a send run launched the product's way
(`launch_send_run`: its own `dagster api execute_run` process) is stored in PostgreSQL, run and events, not in
SQLite files of the home, and the URL and its password are written nowhere in the home's Dagster instance."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import psycopg
import pytest
from dagster._core.events import DagsterEventType
from psycopg.rows import dict_row

from orchestration.config import LEDGER_URL_ENV
from orchestration.defs.launch import launch_send_run
from orchestration.defs.sending.instance import DAGSTER_PG_URL_ENV, STOPPED_TAG
from orchestration.ledger.postgres import close_pools
from orchestration.sender import status
from tests.fixtures.servers import fresh_database
from tests.sending import finished_run, manual, numbers, with_twilio

pytestmark = pytest.mark.postgres

DAGSTER_USER = "dagster_storage"
DAGSTER_PASSWORD = "pg-Dagster-7f3a9c"  # its own role: a password no other file of the test could hold by chance


def dagster_database(server_url: str) -> str:
    """A fresh database owned by a role of its own on the session's server; its URL, password included."""
    url = fresh_database(server_url)
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(server_url, autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (DAGSTER_USER,)).fetchone() is None:
            admin.execute(f"CREATE ROLE {DAGSTER_USER} LOGIN PASSWORD '{DAGSTER_PASSWORD}'")
        admin.execute(f'ALTER DATABASE "{name}" OWNER TO {DAGSTER_USER}')
    host = server_url.split("@", 1)[1].rsplit("/", 1)[0]
    return f"postgresql://{DAGSTER_USER}:{DAGSTER_PASSWORD}@{host}/{name}"


def sqlite_files(folder: Path) -> list[Path]:
    """Every SQLite database file under `folder` (by the file header, whatever its name)."""
    return [p for p in folder.rglob("*") if p.is_file() and p.read_bytes()[:16] == b"SQLite format 3\x00"]


def test_a_send_run_is_stored_in_postgres_and_the_url_is_in_no_file_of_the_home(
    home, simulator, postgres_server, monkeypatch
):
    monkeypatch.setenv(LEDGER_URL_ENV, fresh_database(postgres_server))  # past one machine: the ledger too
    dagster_url = dagster_database(postgres_server)
    monkeypatch.setenv(DAGSTER_PG_URL_ENV, dagster_url)
    ledger = with_twilio(home)
    campaign_id = manual(ledger, numbers(4))

    run_id = launch_send_run(home, 1, campaign_id, "launch", "tester")
    run = finished_run(home, campaign_id)
    close_pools()

    assert run.run_id == run_id and run.status == dg.DagsterRunStatus.SUCCESS, run
    assert run.tags[STOPPED_TAG] == "completed"
    assert status(ledger, 1, campaign_id).counts["sent"] == 4 and len(simulator.accepted()) == 4
    with psycopg.connect(dagster_url, row_factory=dict_row) as con:  # PostgreSQL's own answer, not Dagster's
        stored = con.execute("SELECT status FROM runs WHERE run_id = %s", (run_id,)).fetchall()
        events = {row["dagster_event_type"] for row in con.execute(
            "SELECT dagster_event_type FROM event_logs WHERE run_id = %s", (run_id,))}  # fmt: skip
        materialized = con.execute(
            "SELECT partition FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'",
            (run_id,),
        ).fetchall()
    assert stored == [{"status": "SUCCESS"}]
    kinds = (DagsterEventType.RUN_STARTING, DagsterEventType.RUN_START, DagsterEventType.STEP_SUCCESS,
             DagsterEventType.RUN_SUCCESS)  # stored by value: PIPELINE_STARTING ...  # fmt: skip
    assert {kind.value for kind in kinds} <= events, events
    assert [row["partition"] for row in materialized] == [f"t1-c{campaign_id}"]
    assert sqlite_files(home.root) == []  # neither Dagster's runs nor its events (nor the ledger) in the home
    config = (home.dagster_home / "dagster.yaml").read_text(encoding="utf-8")
    assert f"env: {DAGSTER_PG_URL_ENV}" in config
    for path in (p for p in home.root.rglob("*") if p.is_file()):
        text = path.read_bytes()
        assert DAGSTER_PASSWORD.encode() not in text and dagster_url.encode() not in text, path
