"""CLI commands that run the product's long-lived services: `demo` (everything) and `console`."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import click

from orchestration.cli import home_of, main
from orchestration.config import TWILIO_API_URL_ENV, Home

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONSOLE_APP = PROJECT_ROOT / "console" / "app.py"
WORKSPACE = PROJECT_ROOT / "workspace.yaml"
DEMO_TENANTS = (1, 2)
CONSOLE_ADDRESS = os.environ.get("BKNTC_SMS_CONSOLE_ADDRESS", "127.0.0.1")  # behind a TLS reverse proxy in production
DEMO_SENDER_RATE = 20  # segments/s: the demo simulator drains at once; a real US long code sends 1/s


@dataclass
class Supervisor:
    """Starts child services in their own process groups and stops every one of them on exit."""

    children: list[tuple[str, subprocess.Popen]] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, cwd=PROJECT_ROOT,
            )
        self.children.append((name, proc))
        return proc

    def first_exited(self) -> tuple[str, int] | None:
        for name, proc in self.children:
            if proc.poll() is not None:
                return name, proc.returncode
        return None

    def stop(self, grace: float = 10.0) -> None:
        for _, proc in reversed(self.children):
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for _, proc in self.children:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for _, proc in self.children:
            _signal_group(proc, signal.SIGKILL)
            proc.wait()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def _venv_tool(name: str) -> str:
    """A console script installed next to this Python (the project's venv), whatever PATH says."""
    return str(Path(sys.executable).parent / name)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "orchestration.cli.entry", *args]


def _run_step(title: str, argv: list[str], env: dict[str, str]) -> None:
    click.echo(f"• {title}")
    done = subprocess.run(argv, env=env, cwd=PROJECT_ROOT)
    if done.returncode != 0:
        raise click.ClickException(f"{title} failed (exit code {done.returncode}); see the output above.")


def _wait_for_http(url: str, timeout: float = 90.0) -> bool:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except Exception:  # noqa: BLE001 - any failure means "not up yet"
            time.sleep(0.5)
    return False


def _service_env(home: Home, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TWILIO_EDGE", "TWILIO_REGION")}
    env.update({"BKNTC_SMS_HOME": str(home.root), "DAGSTER_HOME": str(home.dagster_home)})
    env.update(extra or {})
    return env


def _demo_sign_ins(home: Home) -> list[tuple[str, str, str]]:
    """An operator and one admin per demo tenant, each with a new random password on every `make demo` (printed
    once, below): no fixed password that would open any demo home somebody exposed."""
    from orchestration.auth import users
    from orchestration.errors import UserError
    from orchestration.ledger import Ledger

    ledger = Ledger(home.ledger)
    wanted = [("operator@demo.example", "operator", None)] + [
        (f"admin{t}@demo.example", "admin", t) for t in DEMO_TENANTS]
    sign_ins = []
    for email, role, tenant in wanted:
        password = secrets.token_urlsafe(12)
        try:
            users.get_user(ledger, email)
            users.reset_password(ledger, email, password)
            users.set_disabled(ledger, email, False)
        except UserError:
            users.add_user(ledger, email, role, tenant, password)
        sign_ins.append((email, "all tenants" if tenant is None else f"tenant {tenant} admin", password))
    return sign_ins


def _console_argv(port: int) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(CONSOLE_APP),
        "--server.port", str(port), "--server.address", CONSOLE_ADDRESS, "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]


@main.command()
@click.option("--port", default=8501, show_default=True, envvar="BKNTC_SMS_CONSOLE_PORT")
@click.pass_context
def console(ctx: click.Context, port: int) -> None:
    """Start the Streamlit console on the home folder's warehouse and ledger."""
    home = home_of(ctx)
    os.execvpe(sys.executable, _console_argv(port), _service_env(home))


def _demo_sender(tenant: int) -> str:
    """The demo tenant's From number at the simulator."""
    return f"+1555010{tenant:04d}"


@main.command()
@click.option("--customers", default=3000, show_default=True, help="Demo customers across both tenants.")
@click.option("--console-port", default=8501, show_default=True, envvar="BKNTC_SMS_CONSOLE_PORT")
@click.option("--dagster-port", default=3000, show_default=True, envvar="BKNTC_SMS_DAGSTER_PORT")
@click.option("--simulator-port", default=8030, show_default=True, envvar="BKNTC_SMS_SIMULATOR_PORT")
@click.option("--callbacks-port", default=8090, show_default=True, envvar="BKNTC_SMS_CALLBACKS_PORT",
              help="The status-callback receiver the simulator reports deliveries to.")
@click.option("--fresh", is_flag=True, help="Regenerate the demo data even if the home folder has a warehouse.")
@click.pass_context
def demo(ctx: click.Context, customers: int, console_port: int, dagster_port: int, simulator_port: int,
         callbacks_port: int, fresh: bool) -> None:
    """Bring up the whole product on demo data: simulator, callback receiver, Dagster (webserver + daemon) and the
    console."""
    from orchestration.defs.sending.instance import write_instance_config

    home = home_of(ctx)
    simulator_url = f"http://127.0.0.1:{simulator_port}"
    callbacks_url = f"http://127.0.0.1:{callbacks_port}/twilio/status"
    inbound_url = f"http://127.0.0.1:{callbacks_port}/twilio/inbound"
    env = _service_env(home, {TWILIO_API_URL_ENV: simulator_url})
    source = home.root / "demo-source"

    if fresh or not home.warehouse.is_file():
        _run_step("Generating demo Booknetic data for two tenants",
                  _cli("demo-data", "--out", str(source), "--customers", str(customers), "--tenants", "2"), env)
        _run_step("Syncing it into the warehouse (the same Dagster assets the schedule runs)",
                  _cli("sync", "--source", str(source)), env)
    write_instance_config(home)

    accounts = {t: (f"AC{secrets.token_hex(16)}", secrets.token_hex(16)) for t in DEMO_TENANTS}
    supervisor = Supervisor()

    def _terminate(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    try:
        sim_args = ["simulator", "--port", str(simulator_port), "--latency-ms", "40",
                    "--record", str(home.root / "simulator-record.jsonl")]
        for sid, token in accounts.values():
            sim_args += ["--account", f"{sid}:{token}"]
        for tenant in accounts:  # replies (STOP, START) to each tenant's number reach the receiver's inbound URL
            sim_args += ["--incoming-url", f"{_demo_sender(tenant)}={inbound_url}?tenant={tenant}"]
        supervisor.start("simulator", _cli(*sim_args), env, home.logs / "simulator.log")
        supervisor.start("callbacks", _cli("callbacks", "serve", "--port", str(callbacks_port)), env,
                         home.logs / "callbacks.log")
        if not _wait_for_http(f"{simulator_url}/_sim/messages", timeout=30):
            raise click.ClickException(f"The Twilio simulator did not start; see {home.logs / 'simulator.log'}")
        for tenant, (sid, token) in accounts.items():
            _run_step(f"Pointing tenant {tenant}'s Twilio credentials at the local simulator",
                      _cli("tenant", "set-twilio", "--tenant", str(tenant), "--account-sid", sid,
                           "--auth-token", token, "--from", _demo_sender(tenant),
                           "--api-base-url", simulator_url, "--sender-rate", str(DEMO_SENDER_RATE),
                           "--status-callback-url", callbacks_url), env)
        sign_ins = _demo_sign_ins(home)
        supervisor.start("dagster-daemon", [_venv_tool("dagster-daemon"), "run", "-w", str(WORKSPACE)], env,
                         home.logs / "dagster-daemon.log")
        supervisor.start("dagster-webserver",
                         [_venv_tool("dagster-webserver"), "-w", str(WORKSPACE),
                          "-h", "127.0.0.1", "-p", str(dagster_port)],
                         env, home.logs / "dagster-webserver.log")
        supervisor.start("console", _console_argv(console_port), env, home.logs / "console.log")
        _wait_for_http(f"http://127.0.0.1:{console_port}/_stcore/health", timeout=60)
        _wait_for_http(f"http://127.0.0.1:{dagster_port}/server_info", timeout=90)
        click.echo("")
        click.echo(f"  Console          http://127.0.0.1:{console_port}")
        click.echo(f"  Dagster UI       http://127.0.0.1:{dagster_port}")
        click.echo(f"  Twilio simulator {simulator_url}  (nothing leaves this machine)")
        click.echo(f"  Status callbacks {callbacks_url}  (the simulator reports every delivery here)")
        click.echo(f"  Inbound messages {inbound_url}  (replies such as STOP: bkntc-sms simulator-reply ...)")
        click.echo(f"  Home folder      {home.root}   logs in {home.logs}")
        click.echo("\n  Sign in to the console as (new passwords on every start; shown only here):")
        for email, who, password in sign_ins:
            click.echo(f"    {email:<24} {password}   ({who})")
        click.echo("\nPress Ctrl-C to stop everything.")
        while (exited := supervisor.first_exited()) is None:
            time.sleep(1)
        name, code = exited
        raise click.ClickException(f"{name} stopped unexpectedly (exit code {code}); see {home.logs}/{name}.log")
    except KeyboardInterrupt:
        click.echo("\nStopping...")
    finally:
        supervisor.stop()
        click.echo("All services stopped.")
