"""A process that previews often keeps one warehouse attachment open; a sync in another process is never blocked
by it, and the next preview reads the newly published warehouse."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.audiences import AudienceQuery, preview
from orchestration.errors import UserError
from orchestration.source import open_source
from orchestration.warehouse import Warehouse, WarehouseMissing
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
