"""The sync's Dagster face (assets, checks, job, schedule) and the `bkntc-sms sync` command that runs it."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from orchestration.defs import defs
from orchestration.defs.resources import resources_for
from orchestration.defs.sync.definitions import SYNC_ASSETS, SYNC_CHECKS
from orchestration.defs.sync.schedules import audience_refresh_schedule
from orchestration.source import open_source
from orchestration.warehouse import Warehouse
from orchestration.warehouse.source_spec import save_source_spec
from orchestration.warehouse.sync import sync
from tests.sync_snapshots import AS_OF, TINY, write_snapshot

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CLEANED = ["customers", "appointments", "services", "locations", "staff", "company", "tenants", "customer_facts"]

CLEAN_CUSTOMERS = """\
"id","first_name","last_name","phone_number","email","tenant_id"
"1","Ada","Lovelace","+12125550123","ada@example.com",NULL
"2","Bob","Baker","+12125550124","bob@example.com",NULL
"3","Cy","Cole","+12125550125","cy@example.com",NULL
"""
CLEAN_APPOINTMENTS = """\
"id","location_id","service_id","staff_id","customer_id","status","starts_at","ends_at","created_at","tenant_id"
"10","1","1","1","1","approved","1717243200","1717246800","1717000000",NULL
"""


def materialize(home, snapshot: Path) -> dg.ExecuteInProcessResult:
    config = {"config": {"source": str(snapshot), "as_of": "2024-07-01T00:00:00Z"}}
    return dg.materialize(
        [*SYNC_ASSETS, *SYNC_CHECKS],
        resources=resources_for(home.root),
        run_config={"ops": {"booknetic_raw": config, "warehouse_cleaned": config},
                    "loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )


def checks_by_name(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {evaluation.check_name: evaluation for evaluation in result.get_asset_check_evaluations()}


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "bkntc-sms"), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})


def test_the_code_location_has_the_sync_assets_job_and_a_running_hourly_schedule():
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"booknetic_raw", *CLEANED} <= keys
    assert defs.resolve_job_def("sync_job") is not None
    schedule = defs.resolve_schedule_def("audience_refresh_schedule")
    assert (schedule.cron_schedule, schedule.default_status) == ("0 * * * *", dg.DefaultScheduleStatus.RUNNING)


def test_dagster_definitions_validate_passes():
    done = subprocess.run([str(BIN / "dagster"), "definitions", "validate", "-m", "orchestration.defs"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_materializing_the_sync_assets_fills_every_cleaned_table_with_row_counts(home, tmp_path):
    result = materialize(home, write_snapshot(tmp_path / "snapshot"))
    counts = {
        event.asset_key.to_user_string(): event.step_materialization_data.materialization.metadata["rows"].value
        for event in result.get_asset_materialization_events()
    }
    assert counts == {"booknetic_raw": 22, "customers": 5, "appointments": 4, "services": 2, "locations": 2,
                      "staff": 2, "company": 2, "tenants": 2, "customer_facts": 5}


def test_customers_metadata_reports_rows_per_tenant_and_the_invalid_phone_share(home, tmp_path):
    result = materialize(home, write_snapshot(tmp_path / "snapshot"))
    (customers,) = [e.step_materialization_data.materialization for e in result.get_asset_materialization_events()
                    if e.asset_key.to_user_string() == "customers"]
    assert customers.metadata["rows_per_tenant"].value == {"0": 3, "7": 2}
    assert customers.metadata["invalid_phone_share"].value == 0.4  # tenant 7 reads '030 ...' in the US region


def test_checks_warn_about_invalid_phones_and_orphan_appointments(home, tmp_path):
    checks = checks_by_name(materialize(home, write_snapshot(tmp_path / "snapshot")))
    assert not checks["invalid_phone_share"].passed
    assert checks["invalid_phone_share"].severity == dg.AssetCheckSeverity.WARN
    assert checks["invalid_phone_share"].metadata["invalid_phones"].value == 2
    assert not checks["orphan_appointment_share"].passed
    assert checks["orphan_appointment_share"].metadata["sample_tenant_appointments"].value == ["0:13"]


def test_checks_warn_about_a_phone_number_shared_by_many_customers(home, tmp_path):
    shared = CLEAN_CUSTOMERS.replace("+12125550124", "+12125550123")
    checks = checks_by_name(materialize(home, write_snapshot(tmp_path / "snapshot", dict(TINY, customers=shared))))
    assert not checks["duplicate_phone_numbers"].passed
    assert checks["duplicate_phone_numbers"].metadata["sample_tenant_numbers"].value == ["0:+12125550123"]


def test_checks_pass_on_clean_data(home, tmp_path):
    tables = dict(TINY, customers=CLEAN_CUSTOMERS, appointments=CLEAN_APPOINTMENTS)
    checks = checks_by_name(materialize(home, write_snapshot(tmp_path / "snapshot", tables)))
    assert {name: check.passed for name, check in checks.items()} == {
        "invalid_phone_share": True, "duplicate_phone_numbers": True, "orphan_appointment_share": True,
        "source_values_readable": True, "appointment_times_complete": True}


def test_a_value_the_source_cannot_read_warns_in_its_check_and_the_sync_goes_on(home, tmp_path):
    broken = dict(TINY, appointments=TINY["appointments"].replace('"1720000000"', '"soon"'))
    result = materialize(home, write_snapshot(tmp_path / "snapshot", broken))
    checks = checks_by_name(result)
    assert not checks["source_values_readable"].passed
    assert checks["source_values_readable"].metadata["rejected_per_column"].value == {
        "wp_bkntc_appointments.csv.starts_at": 1}
    assert checks["source_values_readable"].metadata["sample_rows"].value == {
        "wp_bkntc_appointments.csv.starts_at": ["id=11"]}
    assert checks["appointment_times_complete"].metadata["left_out"].value == 1


def test_the_schedule_skips_until_a_source_is_remembered(home):
    context = dg.build_schedule_context(resources=resources_for(home.root))
    assert isinstance(audience_refresh_schedule(context), dg.SkipReason)


def test_the_schedule_requests_a_sync_run_once_a_source_is_remembered(home, tmp_path):
    save_source_spec(home, str(tmp_path))
    context = dg.build_schedule_context(resources=resources_for(home.root))
    assert isinstance(audience_refresh_schedule(context), dg.RunRequest)


def test_cli_sync_builds_the_warehouse_and_remembers_the_source_privately(home, tmp_path):
    snapshot = write_snapshot(tmp_path / "snapshot")
    done = cli("sync", "--source", str(snapshot), "--as-of", "2024-07-01T00:00:00Z")
    assert done.returncode == 0, done.stderr
    assert "customer_facts" in done.stdout
    assert home.source_file.read_text().strip() == str(snapshot)
    assert stat.S_IMODE(home.source_file.stat().st_mode) == 0o600
    with Warehouse(home.warehouse).reader() as con:
        assert con.execute("SELECT count(*) FROM customer_facts").fetchall() == [(5,)]


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ({name: text for name, text in TINY.items() if name != "staff"}, "wp_bkntc_staff"),
        (dict(TINY, customers='"id","nom","prenom"\n"1","Ada","Lovelace"\n'), "wp_bkntc_customers.csv"),
    ],
    ids=["missing-table", "wrong-csv-header"],
)
def test_cli_sync_of_a_bad_source_prints_one_line_exits_2_and_keeps_the_warehouse(home, tmp_path, broken, message):
    good = write_snapshot(tmp_path / "good")
    with open_source(str(good)) as source:
        sync(source, Warehouse(home.warehouse), AS_OF)
    save_source_spec(home, str(good))
    before = hashlib.sha256(home.warehouse.read_bytes()).hexdigest()
    done = cli("sync", "--source", str(write_snapshot(tmp_path / "bad", broken)))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and done.stderr.startswith("Error: ") and message in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert hashlib.sha256(home.warehouse.read_bytes()).hexdigest() == before
    assert home.source_file.read_text().strip() == str(good)


def test_a_source_url_with_a_password_is_refused_in_the_run_config(home):
    config = {"config": {"source": "mysql://booknetic:s3cret@127.0.0.1:1/wp?prefix=wp_"}}
    result = dg.materialize(SYNC_ASSETS, resources=resources_for(home.root), raise_on_error=False,
                            run_config={"ops": {"booknetic_raw": config, "warehouse_cleaned": config}})
    (failure,) = [event for event in result.all_events if event.is_step_failure]
    error = failure.step_failure_data.error
    assert "password cannot go in the run config" in error.cause.message
    assert "s3cret" not in error.cause.message


def test_cli_sync_keeps_the_source_spec_out_of_the_dagster_run_config(home, tmp_path):
    snapshot = write_snapshot(tmp_path / "snapshot")
    assert cli("sync", "--source", str(snapshot)).returncode == 0
    with dg.DagsterInstance.from_config(str(home.dagster_home)) as instance:
        (run,) = instance.get_runs()
    assert str(snapshot) not in repr(run.run_config)
