"""A process that previews often keeps one warehouse attachment open; a sync in another process is never blocked
by it, and the next preview reads the newly published warehouse."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest

from orchestration.audiences import AudienceQuery, preview
from orchestration.errors import UserError
from orchestration.source import open_source
from orchestration.warehouse import Warehouse, WarehouseMissing
from orchestration.warehouse.store import IDLE_CURSORS, sql_literal
from orchestration.warehouse.sync import sync
from tests.sync_snapshots import AS_OF, TINY, write_snapshot

ROOT = Path(__file__).resolve().parents[1]
NEW_CUSTOMER = '"6","Zed","","+12125550199","zed@example.com",NULL,"","2024-03-06",NULL\n'


def _sync_in_another_process(snapshot: Path, warehouse: Warehouse) -> subprocess.CompletedProcess:
    code = ("import sys; from datetime import datetime, UTC; from orchestration.source import open_source; "
            "from orchestration.warehouse import Warehouse; from orchestration.warehouse.sync import sync; "
            "source = open_source(sys.argv[1]); sync(source, Warehouse(sys.argv[2]), datetime(2024, 7, 1, tzinfo=UTC))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code, str(snapshot), str(warehouse.path)], env=env,
                          capture_output=True, text=True, timeout=300)


def _all_customers(warehouse: Warehouse) -> int:
    shown = preview(warehouse, None, AudienceQuery(0, "all_customers", as_of=AS_OF))
    return shown.count + sum(shown.excluded.values())


def test_previews_reuse_one_attachment_until_a_sync_publishes_and_a_held_one_never_blocks_the_sync(tmp_path, home):
    warehouse = Warehouse(home.warehouse)
    with open_source(str(write_snapshot(tmp_path / "before"))) as source:
        sync(source, warehouse, AS_OF)
    warehouse.release_shared_reader()
    assert [_all_customers(warehouse) for _ in range(3)] == [3, 3, 3]
    assert warehouse.shared_reader_opens() == 1

    after = write_snapshot(tmp_path / "after", dict(TINY, customers=TINY["customers"] + NEW_CUSTOMER))
    with warehouse.shared_reader() as held:
        done = _sync_in_another_process(after, warehouse)
        assert done.returncode == 0, done.stderr
        assert held.execute("SELECT count(*) FROM customers WHERE tenant_id = 0").fetchall() == [(3,)]

    assert [_all_customers(warehouse) for _ in range(3)] == [4, 4, 4]
    assert warehouse.shared_reader_opens() == 2


def test_what_previews_remember_of_a_warehouse_is_forgotten_when_a_sync_publishes_a_new_one(tmp_path, home):
    warehouse = Warehouse(home.warehouse)
    with open_source(str(write_snapshot(tmp_path / "before"))) as source:
        sync(source, warehouse, AS_OF)
    query = AudienceQuery(0, "all_customers", service_ids=(3,), as_of=AS_OF)
    for _ in range(2):  # the second answer comes from the remembered catalog of the tenant
        with pytest.raises(UserError, match=r"Unknown service id\(s\) for tenant 0: 3\."):
            preview(warehouse, None, query)
    services = TINY["services"] + '"3","Colour","80.00","1","90","1",NULL\n'
    done = _sync_in_another_process(write_snapshot(tmp_path / "after", dict(TINY, services=services)), warehouse)
    assert done.returncode == 0, done.stderr
    assert preview(warehouse, None, query).count == 0  # the new file's service is known; nobody booked it yet


def test_a_shared_reader_of_a_missing_warehouse_says_to_sync_first(tmp_path):
    missing = Warehouse(tmp_path / "no.duckdb")
    with pytest.raises(WarehouseMissing, match="run `bkntc-sms sync"), missing.shared_reader():
        pass


def _prepared(warehouse: Warehouse) -> list[str]:
    """The statements prepared on the cursor a session is handed next (the one the last session gave back)."""
    with warehouse.shared_session() as session:
        return [row[0] for row in session.con.execute("SELECT name FROM duckdb_prepared_statements()").fetchall()]


def test_a_repeated_preview_runs_the_statements_it_prepared_the_first_time(tmp_path, home):
    warehouse = Warehouse(home.warehouse)
    with open_source(str(write_snapshot(tmp_path / "before"))) as source:
        sync(source, warehouse, AS_OF)
    warehouse.release_shared_reader()
    query = AudienceQuery(0, "recent_bookers", as_of=AS_OF)
    first = preview(warehouse, None, query)
    prepared = _prepared(warehouse)
    assert prepared  # the premise: the preview's statements were prepared on the kept cursor
    again = [preview(warehouse, None, query) for _ in range(3)]
    assert _prepared(warehouse) == prepared
    assert [shown.count for shown in again] == [first.count] * 3
    assert all(shown.sample.equals(first.sample) for shown in again)


def test_values_reach_a_prepared_statement_as_they_were_given(tmp_path, home):
    warehouse = Warehouse(home.warehouse)
    with open_source(str(write_snapshot(tmp_path / "before"))) as source:
        sync(source, warehouse, AS_OF)
    values = {"quote": "it's", "slash": "a\\b", "empty": "", "word": "réservé 予約", "count": -7, "share": 0.25,
              "flag": True, "nothing": None, "ids": [3, 1, 2], "slugs": ["o'neil", "x"]}
    sql = ("SELECT $quote::VARCHAR, $slash::VARCHAR, $empty::VARCHAR, $word::VARCHAR, $count::INTEGER, "
           "$share::DOUBLE, $flag::BOOLEAN, $nothing::VARCHAR, $ids::INTEGER[], $slugs::VARCHAR[]")
    with warehouse.shared_session() as session:
        for _ in range(2):  # prepared, then executed again
            assert session.execute(sql, values).fetchall() == [tuple(values.values())]


@pytest.mark.parametrize("value", [float("nan"), b"bytes", {"a": 1}])
def test_a_value_without_a_sql_literal_is_refused(value):
    with pytest.raises(TypeError, match="no SQL literal"):
        sql_literal(value)


def test_a_session_that_failed_does_not_hand_its_cursor_on(tmp_path, home):
    warehouse = Warehouse(home.warehouse)
    with open_source(str(write_snapshot(tmp_path / "before"))) as source:
        sync(source, warehouse, AS_OF)
    with warehouse.shared_session() as session:
        session.con.execute("CREATE TEMP TABLE kept AS SELECT 1 AS x")
    with warehouse.shared_session() as session:  # the premise: a session that ended well hands its cursor on
        assert session.con.execute("SELECT x FROM kept").fetchall() == [(1,)]
        session.con.execute("CREATE TEMP TABLE failed AS SELECT 2 AS x")
    with pytest.raises(RuntimeError), warehouse.shared_session() as session:
        session.con.execute("SELECT 1 FROM failed")
        raise RuntimeError("the session's work failed")
    with warehouse.shared_session() as session:
        temporary = session.con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
        tables = {row[0] for row in temporary}
        assert not {"kept", "failed"} & tables  # the failed session had the cursor that held both


def test_an_attachment_keeps_at_most_a_few_idle_cursors(tmp_path, home):
    warehouse = Warehouse(home.warehouse)
    with open_source(str(write_snapshot(tmp_path / "before"))) as source:
        sync(source, warehouse, AS_OF)
    with ExitStack() as stack:
        sessions = [stack.enter_context(warehouse.shared_session()) for _ in range(IDLE_CURSORS + 3)]
        assert len({id(session.con) for session in sessions}) == IDLE_CURSORS + 3
        for number, session in enumerate(sessions):
            session.con.execute(f"CREATE TEMP TABLE mark AS SELECT {number} AS n")
    with ExitStack() as stack:  # the cursors handed out now are the kept ones, and only those
        marks = []
        for _ in range(IDLE_CURSORS + 3):
            con = stack.enter_context(warehouse.shared_session()).con
            marked = con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = 'mark'")
            marks.append(marked.fetchone()[0])
    assert sorted(marks) == [0] * 3 + [1] * IDLE_CURSORS
