"""`make demo` on a fresh machine, as the README says: it installs the product without the test extras (no
compiler, no system packages), its demo data passes its own asset checks, the simulator's root URL is a page, and
the README points at nothing outside the repository.

The clean-environment test (`fresh_install`) really builds a virtual environment and installs the project from
the package index without the test extras; that takes minutes (3–4.5 min measured on 2 shared cores), so it runs
only with BKNTC_FRESH_INSTALL_TEST=1.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from orchestration.defs.sync.checks import MAX_INVALID_PHONE_SHARE, MAX_SHARED_PHONE_CUSTOMER_SHARE
from orchestration.simulator import Simulator
from orchestration.source.folder import SnapshotFolder
from orchestration.source.synthetic import as_of_default, generate, write_snapshot
from orchestration.warehouse import Warehouse
from orchestration.warehouse.quality import duplicate_phones, phone_status_counts
from orchestration.warehouse.sync import sync

ROOT = Path(__file__).resolve().parents[1]
DEMO_CUSTOMERS, DEMO_TENANTS, DEMO_SEED = 3000, 2, 7  # `bkntc-sms demo`'s defaults (demo-data's seed)


def make_dry_run(target: str, tmp_path: Path) -> str:
    """The commands `make <target>` would run for a machine without a virtual environment."""
    result = subprocess.run(["make", "-n", "--no-print-directory", target, f"VENV={tmp_path / 'venv'}"],
                            cwd=ROOT, capture_output=True, text=True, check=True)
    return result.stdout


def test_make_demo_installs_the_product_without_the_test_extras_or_system_packages(tmp_path):
    commands = make_dry_run("demo", tmp_path)
    assert "pip install -q -e .\n" in commands
    assert "[test]" not in commands and "apt-get" not in commands


def test_make_test_installs_the_test_extras_and_their_build_packages(tmp_path):
    commands = make_dry_run("test", tmp_path)
    assert "pip install -q -e '.[test]'" in commands
    assert "libmariadb-dev" in commands


def test_the_demo_data_passes_its_own_asset_checks(tmp_path):
    source = tmp_path / "source"
    write_snapshot(generate(DEMO_CUSTOMERS, DEMO_TENANTS, DEMO_SEED, as_of_default()), source)
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    sync(SnapshotFolder(source), warehouse, as_of_default())
    with warehouse.reader() as con:
        _, holders = duplicate_phones(con)
        invalid_share = phone_status_counts(con).invalid_share
    assert holders.share <= MAX_SHARED_PHONE_CUSTOMER_SHARE
    assert invalid_share <= MAX_INVALID_PHONE_SHARE


def test_the_simulators_root_url_is_a_page_naming_its_accounts_and_linking_its_stats():
    with Simulator(accounts={"AC" + "12" * 16: "token-never-shown"}) as simulator:
        with urllib.request.urlopen(simulator.base_url + "/") as answer:
            page = answer.read().decode()
            kind = answer.headers["Content-Type"]
    assert kind.startswith("text/html")
    assert "Twilio simulator" in page and "AC" + "12" * 16 in page and 'href="/_sim/stats"' in page
    assert "token-never-shown" not in page


def test_the_readme_links_only_to_files_inside_the_repository():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)", readme) + re.findall(r"`(\.\./[^`]+)`", readme)
    local = [t for t in targets if not t.startswith(("http://", "https://", "mailto:"))]
    assert "../" not in readme
    assert local and all((ROOT / t).exists() for t in local), [t for t in local if not (ROOT / t).exists()]


@pytest.mark.slow
@pytest.mark.fresh_install
@pytest.mark.timeout(3600)
@pytest.mark.skipif(os.environ.get("BKNTC_FRESH_INSTALL_TEST") != "1",
                    reason="builds a clean virtual environment (minutes): set BKNTC_FRESH_INSTALL_TEST=1")
def test_demo_setup_in_a_clean_virtual_environment_without_the_test_extras(tmp_path):
    """What `make demo` does before starting services, in a new venv: `pip install -e .` of a copy of the
    project, then `bkntc-sms --help`, a small `demo-data` + `sync`, and `dg check defs`."""
    copy = tmp_path / "project"
    tracked = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    for name in tracked:
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["BKNTC_SMS_HOME"] = str(tmp_path / "home")
    env["DAGSTER_HOME"] = str(tmp_path / "dagster")
    (tmp_path / "dagster").mkdir()

    def run(*argv: str) -> str:
        done = subprocess.run(argv, cwd=copy, env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, (argv, done.stdout[-2000:], done.stderr[-2000:])
        return done.stdout + done.stderr

    run(str(venv / "bin/pip"), "install", "-q", "-e", ".")
    installed = run(str(venv / "bin/pip"), "list", "--format=freeze").lower()
    assert "mysqlclient" not in installed and "pytest" not in installed
    assert "Booknetic SMS Campaigns" in run(str(venv / "bin/bkntc-sms"), "--help")
    run(str(venv / "bin/bkntc-sms"), "demo-data", "--out", str(tmp_path / "source"), "--customers", "200")
    assert "customer_facts" in run(str(venv / "bin/bkntc-sms"), "sync", "--source", str(tmp_path / "source"))
    assert "All definitions loaded successfully" in run(str(venv / "bin/dg"), "check", "defs") + ""
