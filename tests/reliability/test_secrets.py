"""Secrets: after a demo-like run with credentials set (CLI set-twilio, sync, preview, campaign create/launch/run,
test send, exports, a Dagster send job, the console's Settings page), no auth token appears in clear in any file of
the home folder (ledger, Dagster storage, logs, exports) nor in anything the commands printed."""

from __future__ import annotations

import base64
import json
import secrets
import sys
import textwrap
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from console import ui
from orchestration.config import Home
from tests.reliability.harness import cli_env, run_cli, run_to_exit, simulator_process, write_figures
from tests.signed_in import sign_in_as
from tests.test_console import APP

SID = "AC" + secrets.token_hex(16)
TOKEN = secrets.token_hex(16)  # the token the simulator accepts (tenant 1)
WRONG_TOKEN = secrets.token_hex(16)  # a token the simulator refuses (tenant 2): a secret all the same

SEND_JOB = textwrap.dedent("""
    import sys
    import dagster as dg
    from orchestration.defs.resources import resources_for
    from orchestration.defs.sending.jobs import send_campaign_job
    home, tenant, campaign = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with dg.DagsterInstance.get() as instance:
        result = send_campaign_job.execute_in_process(
            instance=instance, resources=resources_for(home), raise_on_error=False,
            run_config={"ops": {"send_campaign": {"config": {"tenant_id": tenant, "campaign_id": campaign}}}})
    print("dagster run", result.run_id, "success" if result.success else "failure")
""")


def forms(secret: str) -> dict[str, bytes]:
    """The ways a token could leak: as written, in a Basic auth header, hex- or UTF-16-encoded."""
    return {
        "clear": secret.encode(),
        "basic_auth": base64.b64encode(f"{SID}:{secret}".encode()),
        "utf16": secret.encode("utf-16-le"),
        "upper": secret.upper().encode(),
    }


def leaks_in(files: list[Path], outputs: list[tuple[str, str]], tokens: dict[str, str]) -> list[str]:
    """Where any form of any token shows up, in the files' bytes or in the captured outputs."""
    leaks = []
    for secret_name, secret in tokens.items():
        for form, needle in forms(secret).items():
            leaks += [f"{secret_name}/{form} in {path}" for path in files if needle in path.read_bytes()]
            leaks += [f"{secret_name}/{form} in output of {what}" for what, text in outputs if needle in text.encode()]
    return leaks


def _settings_page_text(home: Home) -> str:
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.session_state[ui.SESSION_KEY] = sign_in_as(home)  # an operator, so the tenant below is honoured
    app.session_state["tenant_id"] = 1
    app.run()
    app.switch_page("views/settings.py").run()
    app.button(key="set_check").click().run()
    shown: list[str] = []
    blocks = [app._tree]
    while blocks:
        for child in blocks.pop().children.values():
            (blocks.append(child) if hasattr(child, "children") else shown.append(str(child.proto)))
    assert not app.exception and app.success and app.success[0].value.startswith("Credentials work")
    return "\n".join(shown)


@pytest.mark.slow
def test_no_auth_token_is_written_or_printed_in_clear_anywhere(home, tmp_path, monkeypatch):
    outputs: list[tuple[str, str]] = []
    source = tmp_path / "source"
    accounts = ("--account", f"{SID}:{TOKEN}", "--account", f"AC{'0' * 32}:{secrets.token_hex(16)}")
    with simulator_process(tmp_path, *accounts) as simulator:
        env = cli_env(home, http_timeout=5, DAGSTER_HOME=str(home.dagster_home))

        def cli(*args: str, ok: bool = True) -> str:
            done = run_cli(*args, env=env)
            outputs.append((" ".join(args), done.stdout + done.stderr))
            assert (done.returncode == 0) == ok, (args, done.stdout, done.stderr)
            return done.stdout

        cli("demo-data", "--out", str(source), "--customers", "300", "--tenants", "2")
        cli("sync", "--source", str(source))
        # No sender limit: the fast simulator drains at once, and a long code's 1 segment/s would make the sends
        # below take minutes without writing anything more a token could leak into.
        cli("tenant", "set-twilio", "--tenant", "1", "--account-sid", SID, "--auth-token", TOKEN,
            "--from", "+15005550006", "--api-base-url", simulator.base_url, "--sender-rate", "0")  # fmt: skip
        cli("tenant", "set-twilio", "--tenant", "2", "--account-sid", SID, "--auth-token", WRONG_TOKEN,
            "--from", "+15005550007", "--api-base-url", simulator.base_url, "--sender-rate", "0")  # fmt: skip
        cli("tenant", "show", "--tenant", "1")
        cli("tenant", "check", "--tenant", "1")
        cli("tenant", "check", "--tenant", "2", ok=False)
        cli("preview", "--tenant", "1", "--segment", "all_customers", "--json")
        created = json.loads(cli("campaign", "create", "--tenant", "1", "--name", "Secrets", "--segment",
                                 "first_time", "--template", "Hi {customer_first_name}", "--rate", "0", "--json"))
        campaign = str(created["campaign_id"])
        cli("campaign", "launch", campaign, "--tenant", "1", "--queue-only")
        cli("campaign", "run", campaign, "--tenant", "1")
        cli("send-test", "--tenant", "1", "--to", "+14155552671", "--template", "Test {customer_name}")
        cli("send-test", "--tenant", "2", "--to", "+14155552671", "--template", "Test {customer_name}")
        second = json.loads(cli("campaign", "create", "--tenant", "1", "--name", "Via Dagster", "--segment",
                                "all_customers", "--template", "Hello", "--rate", "0", "--json"))["campaign_id"]
        cli("campaign", "launch", str(second), "--tenant", "1", "--queue-only")
        job = run_to_exit([sys.executable, "-c", SEND_JOB, str(home.root), "1", str(second)], env=env)
        outputs.append(("dagster send job", job.stdout + job.stderr))
        assert "success" in job.stdout, job.stderr[-3000:]
        exports = home.root / "exports"
        exports.mkdir()
        cli("logs", "export", campaign, "--tenant", "1", "--out", str(exports / "log.csv"))
        cli("suppression", "export", "--tenant", "1", "--output", str(exports / "suppression.csv"))
        cli("campaign", "status", campaign, "--tenant", "1", "--json")
        monkeypatch.setenv("BKNTC_SMS_HOME", str(home.root))
        outputs.append(("console settings page", _settings_page_text(home)))

    files = [path for path in home.root.rglob("*") if path.is_file()]
    leaks = leaks_in(files, outputs, {"token": TOKEN, "wrong_token": WRONG_TOKEN})
    dagster_files = [p for p in files if home.dagster_home in p.parents]
    write_figures("secrets", {
        "files_scanned": len(files), "bytes_scanned": sum(p.stat().st_size for p in files),
        "dagster_files_scanned": len(dagster_files),
        "file_kinds": sorted({p.suffix or p.name for p in files}),
        "outputs_scanned": len(outputs), "output_chars_scanned": sum(len(t) for _, t in outputs),
        "forms_searched": list(forms(TOKEN)), "leaks": leaks,
    })  # fmt: skip
    assert len(dagster_files) > 0 and any(p.suffix == ".db" for p in dagster_files)
    assert leaks == []


def test_the_scan_finds_a_token_in_a_basic_auth_header_or_in_clear(tmp_path):
    header = tmp_path / "header.log"
    header.write_text(f"Authorization: Basic {base64.b64encode(f'{SID}:{TOKEN}'.encode()).decode()}\n")
    clear = tmp_path / "clear.log"
    clear.write_bytes(f"token={TOKEN}".encode("utf-16-le"))

    found = leaks_in([header, clear], [("echo", f"x{TOKEN.upper()}x")], {"token": TOKEN})

    assert found == [f"token/basic_auth in {header}", f"token/utf16 in {clear}", "token/upper in output of echo"]
