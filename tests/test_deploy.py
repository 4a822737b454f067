"""deploy/: the compose file follows the Compose specification and runs the product's own commands, settings and
code location; the Docker and Kubernetes run launchers and run queues agree with the product's dagster.yaml; a send
run (the work a run worker does) only reads the warehouse file.

No Docker daemon or Kubernetes cluster is needed (nor started): each file is checked against what reads it, here
and for real (the CLI, the code server, Dagster's instance loading, the send run)."""

from __future__ import annotations

import copy
import hashlib
import itertools
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import jsonschema
import pytest
import yaml

from orchestration.audiences import AudienceQuery
from orchestration.config import Home
from orchestration.defs.launch import launch_send_run
from orchestration.defs.sending.instance import (
    RUN_LAUNCHER_ENV,
    STOPPED_TAG,
    instance_settings,
    write_instance_config,
)
from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.sender import Schedule, create_campaign, get_campaign, launch
from tests.fixtures.servers import free_port
from tests.sending import FAST, TEMPLATE, finished_run, small_warehouse, with_twilio

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
LAUNCHER = DEPLOY / "docker_run_launcher.yaml"
HELM_VALUES = DEPLOY / "helm" / "values.yaml"
K8S_MANIFESTS = DEPLOY / "helm" / "bkntc-sms.yaml"
# The Compose specification's JSON schema as docker-compose 1.29.2 ships it (compose/config/compose_spec.json in
# its wheel on PyPI, Apache-2.0: LICENSE beside it), kept here so that the check runs offline.
COMPOSE_SCHEMA = ROOT / "tests" / "fixtures" / "compose" / "compose_spec.json"
PRODUCT_SERVICES = {"dagster-code", "dagster-webserver", "dagster-daemon", "console", "callbacks", "cli"}
# Variables that the deployment sets for someone else than the product, and who reads them.
READ_BY_DAGSTER = {"DAGSTER_HOME", "DAGSTER_CURRENT_IMAGE"}
READ_BY_POSTGRES_IMAGE = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}
GRPC_PORTS = range(34600, 34650)
VENV_BIN = Path(sys.executable).parent  # `dagster`, `dagster-webserver` ... as the image has them on its PATH


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def launcher_block() -> dict:
    return yaml.safe_load(LAUNCHER.read_text(encoding="utf-8"))


def helm_values() -> dict:
    return yaml.safe_load(HELM_VALUES.read_text(encoding="utf-8"))


def k8s_manifests() -> list[dict]:
    return [doc for doc in yaml.safe_load_all(K8S_MANIFESTS.read_text(encoding="utf-8")) if doc]


def service_env(name: str) -> dict[str, str]:
    env = compose()["services"][name].get("environment", {})
    assert isinstance(env, dict), f"{name}: environment as a mapping"
    return {key: str(value) for key, value in env.items()}


def user_deployment() -> dict:
    [deployment] = helm_values()["dagster-user-deployments"]["deployments"]
    return deployment


def k8s_containers() -> list[dict]:
    pods = [doc["spec"]["template"]["spec"] for doc in k8s_manifests() if doc["kind"] == "Deployment"]
    return [container for pod in pods for container in pod["containers"]]


def product_commands() -> list[list[str]]:
    """Every `bkntc-sms ...` command line the compose file and the Kubernetes manifests run."""
    lines = [s["command"] for n, s in compose()["services"].items() if n in PRODUCT_SERVICES]
    lines += [c["args"] for c in k8s_containers()]
    return [[str(word) for word in line] for line in lines if line[0] == "bkntc-sms"]


def code_server_command() -> list[str]:
    return [str(word) for word in compose()["services"]["dagster-code"]["command"]]


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def variables_set() -> dict[str, set[str]]:
    """Every environment variable the deployment's files set, with where it is set."""
    found: dict[str, set[str]] = {}

    def add(name: str, where: str) -> None:
        found.setdefault(name, set()).add(where)

    for name, service in compose()["services"].items():
        for key in service.get("environment", {}):
            add(key, f"compose:{name}")
    for key in launcher_block()["config"]["env_vars"]:
        add(key.split("=", 1)[0], "docker_run_launcher")
    for entry in user_deployment()["env"]:
        add(entry["name"], "helm:user-deployment")
    for container in k8s_containers():
        for entry in container.get("env", []):
            add(entry["name"], f"k8s:{container['name']}")
    for doc in k8s_manifests():
        if doc["kind"] == "Secret":
            for key in doc["stringData"]:
                add(key, f"k8s-secret:{doc['metadata']['name']}")
    return found


def product_sources() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for folder in ("orchestration", "console")
                     for p in (ROOT / folder).rglob("*.py"))  # fmt: skip


def dagster_sources() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in Path(dg.__file__).parent.rglob("*.py"))


def python_path() -> str:
    """This checkout first, for the processes the tests start."""
    return os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])


def deployment_env(home: Home) -> dict[str, str]:
    """The product services' environment of the compose file with the home moved to this test's folder, and
    Dagster's storage left on the home's SQLite files (no PostgreSQL URL: there is no `postgres` host here)."""
    env = {**os.environ, **service_env("dagster-daemon")}
    env.update({"BKNTC_SMS_HOME": str(home.root), "DAGSTER_HOME": str(home.dagster_home),
                RUN_LAUNCHER_ENV: str(LAUNCHER), "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
                "PYTHONPATH": python_path()})  # fmt: skip
    for local_only in ("BKNTC_SMS_DAGSTER_PG_URL", "BKNTC_SMS_LEDGER_URL", "BKNTC_SMS_DAGSTER_URL"):
        env.pop(local_only)
    return env


# --- the compose file ------------------------------------------------------------------------------


def test_the_compose_file_follows_the_compose_specification():
    schema = yaml.safe_load(COMPOSE_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft201909Validator(schema)
    misspelled = copy.deepcopy(compose())
    misspelled["services"]["console"]["enviroment"] = misspelled["services"]["console"].pop("environment")

    assert list(validator.iter_errors(compose())) == []
    assert list(validator.iter_errors(misspelled)) != []  # the schema does refuse what Compose would refuse


def test_the_compose_file_runs_every_service_of_the_product_from_one_image_and_one_home():
    services = compose()["services"]
    home = service_env("console")["BKNTC_SMS_HOME"]

    assert set(services) == PRODUCT_SERVICES | {"postgres"}
    for name in PRODUCT_SERVICES:
        service = services[name]
        assert service["image"] == "bkntc-sms:latest" and service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert f"home:{home}" in service["volumes"], name
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy", name
    assert service_env("console")["DAGSTER_HOME"] == str(Home(Path(home)).dagster_home)
    assert compose()["volumes"]["home"]["name"] in {v.split(":")[0] for v in launcher_block()["config"]
                                                     ["container_kwargs"]["volumes"]}  # fmt: skip


def test_every_product_service_has_the_same_product_settings():
    """Each container rewrites the home's dagster.yaml from its environment: two that differ would flip it."""
    settings = {name: {k: v for k, v in service_env(name).items() if k.startswith("BKNTC_SMS_")
                       and k != "BKNTC_SMS_CONSOLE_ADDRESS"} for name in PRODUCT_SERVICES}  # fmt: skip

    assert all(s == settings["dagster-daemon"] for s in settings.values()), settings
    assert {"BKNTC_SMS_DAGSTER_PG_URL", "BKNTC_SMS_LEDGER_URL", "BKNTC_SMS_DAGSTER_URL",
            RUN_LAUNCHER_ENV} <= set(settings["dagster-daemon"])  # fmt: skip


def test_every_variable_the_deployment_sets_is_one_that_its_reader_reads():
    product, dagster = product_sources(), dagster_sources()
    unknown = []
    for name, where in sorted(variables_set().items()):
        if name.startswith("BKNTC_SMS_"):
            read = f'"{name}"' in product
        elif name in READ_BY_DAGSTER:
            read = f'"{name}"' in dagster
        else:
            read = name in READ_BY_POSTGRES_IMAGE and where == {"compose:postgres"}
        if not read:
            unknown.append((name, sorted(where)))

    assert unknown == []
    assert "BKNTC_SMS_NO_SUCH_SETTING" not in product  # the search would not find a name the code does not read


def test_every_bkntc_sms_command_of_the_deployment_exists_with_the_options_it_is_given():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    commands = product_commands()
    assert scripts["bkntc-sms"] == "orchestration.cli:main"
    assert {tuple(line[1:3]) for line in commands} >= {("console", "--port"), ("callbacks", "serve"), ("--help",)}

    for line in commands:
        path = list(itertools.takewhile(lambda word: not word.startswith("-"), line[1:]))  # the (sub)command
        done = subprocess.run([sys.executable, "-m", "orchestration.cli.entry", *path, "--help"], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, (line, done.stderr)
        for flag in (w for w in line[1:] if w.startswith("--") and w != "--help"):
            assert re.search(rf"(^|\s){re.escape(flag)}\b", done.stdout), (line, flag, done.stdout)


def test_the_code_server_serves_the_code_location_that_the_deployments_workspace_names(home, tmp_path):
    argv = code_server_command()
    assert (option(argv, "-m"), option(argv, "-a")) == ("orchestration.defs", "defs")
    [entry] = yaml.safe_load((DEPLOY / "workspace.yaml").read_text(encoding="utf-8"))["load_from"]
    grpc = entry["grpc_server"]
    assert (grpc["host"], grpc["port"]) == ("dagster-code", int(option(argv, "-p")))
    port = free_port(GRPC_PORTS)
    local = [*argv[: argv.index("-h")], "-h", "127.0.0.1", "-p", str(port)]  # the same server, on this machine
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(yaml.safe_dump({"load_from": [{"grpc_server": {**grpc, "host": "127.0.0.1", "port": port}}]}))

    log = tmp_path / "code-server.log"
    with served(["sh", str(DEPLOY / "entrypoint.sh"), *local], deployment_env(home), log) as server:
        listed = wait_for_jobs(workspace, deployment_env(home), server, log)

    assert "send_campaign_job" in listed.split()


@contextmanager
def served(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """The command running, its output in `log` (stopped, with its process group, at the end)."""
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
        try:
            yield proc
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a loaded machine: Dagster's gRPC server drains slowly on SIGTERM
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)


def wait_for_jobs(workspace: Path, env: dict[str, str], server: subprocess.Popen, log: Path,
                  timeout: float = 240) -> str:  # fmt: skip
    """`dagster job list -w WORKSPACE` (started by the deployment's entrypoint) once the workspace's gRPC server
    answers (a server that exits fails at once, with its output)."""
    deadline = time.monotonic() + timeout
    while True:
        assert server.poll() is None, f"the code server exited ({server.returncode}):\n{log.read_text()[-3000:]}"
        # through the entrypoint, as every process of the deployment starts: a bare `dagster job list` racing the
        # code server's entrypoint on the fresh home created Dagster's storage beside it (alembic: two heads)
        probe = ["sh", str(DEPLOY / "entrypoint.sh"), str(VENV_BIN / "dagster"), "job", "list", "-w", str(workspace)]
        done = subprocess.run(probe, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        if done.returncode == 0 or time.monotonic() > deadline:
            assert done.returncode == 0, f"{done.stderr[-2000:]}\ncode server:\n{log.read_text()[-3000:]}"
            return done.stdout
        time.sleep(1)


# --- the run launcher in the home's dagster.yaml ----------------------------------------------------------


def test_the_entrypoint_writes_the_docker_run_launcher_into_the_homes_dagster_yaml_and_dagster_loads_it(home):
    from dagster_docker import DockerRunLauncher

    subprocess.run(["sh", str(DEPLOY / "entrypoint.sh"), "true"], env=deployment_env(home), cwd=ROOT, check=True,
                   timeout=120)  # fmt: skip
    written = yaml.safe_load((home.dagster_home / "dagster.yaml").read_text(encoding="utf-8"))

    assert written["run_launcher"] == launcher_block()
    assert written["run_coordinator"]["class"] == "QueuedRunCoordinator"  # the product's queue stays as it was
    with dg.DagsterInstance.from_config(str(home.dagster_home)) as instance:  # Dagster validates the config here
        launcher = instance.run_launcher
        assert isinstance(launcher, DockerRunLauncher)
        assert launcher.networks == [compose()["networks"]["bkntc"]["name"]]
    daemon_env = service_env("dagster-daemon")
    assert [name for name in launcher.env_vars if name not in daemon_env] == []  # each is taken from the daemon's
    assert f"{compose()['volumes']['home']['name']}:{daemon_env['BKNTC_SMS_HOME']}" in launcher.container_kwargs[
        "volumes"]  # fmt: skip


def test_a_run_launcher_file_that_is_missing_or_not_a_launcher_is_one_clear_error(home, tmp_path, monkeypatch):
    monkeypatch.setenv(RUN_LAUNCHER_ENV, str(tmp_path / "missing.yaml"))
    with pytest.raises(UserError, match="not a readable YAML file"):
        write_instance_config(home)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("module: dagster_docker\nkind: DockerRunLauncher\n")
    monkeypatch.setenv(RUN_LAUNCHER_ENV, str(wrong))
    with pytest.raises(UserError, match="must hold a run launcher"):
        write_instance_config(home)
    assert not (home.dagster_home / "dagster.yaml").exists()  # nothing half-written


def test_without_a_run_launcher_file_the_homes_dagster_yaml_has_none(home, monkeypatch):
    monkeypatch.delenv(RUN_LAUNCHER_ENV, raising=False)
    assert "run_launcher" not in yaml.safe_load(write_instance_config(home).read_text(encoding="utf-8"))


# --- Kubernetes (Dagster's Helm chart) -------------------------------------------------------------------


def test_the_helm_run_queue_has_the_limits_of_the_products_dagster_yaml(monkeypatch):
    for name in ("BKNTC_SMS_TENANT_SEND_RUNS", "BKNTC_SMS_MAX_SEND_RUNS"):
        monkeypatch.setenv(name, service_env("dagster-daemon")[name])
    ours = instance_settings()["run_coordinator"]["config"]
    coordinator = helm_values()["dagsterDaemon"]["runCoordinator"]
    chart = coordinator["config"]["queuedRunCoordinator"]

    assert (coordinator["enabled"], coordinator["type"]) == (True, "QueuedRunCoordinator")
    assert chart["maxConcurrentRuns"] == ours["max_concurrent_runs"]
    assert chart["tagConcurrencyLimits"] == ours["tag_concurrency_limits"]


def test_the_helm_code_location_and_run_pods_are_the_compose_ones():
    deployment = user_deployment()
    argv = code_server_command()
    home = service_env("dagster-daemon")["BKNTC_SMS_HOME"]
    claim = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in deployment["volumes"]}
    [pvc] = [doc for doc in k8s_manifests() if doc["kind"] == "PersistentVolumeClaim"]

    assert deployment["dagsterApiGrpcArgs"] == ["-m", option(argv, "-m"), "-a", option(argv, "-a")]
    assert helm_values()["runLauncher"]["type"] == "K8sRunLauncher"
    assert deployment["includeConfigInLaunchedRuns"] == {"enabled": True}  # run pods get its env, secret, volume
    assert [(m["name"], m["mountPath"]) for m in deployment["volumeMounts"]] == [("home", home)]
    assert claim == {"home": pvc["metadata"]["name"]} and pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    assert {"name": "BKNTC_SMS_HOME", "value": home} in deployment["env"]


# --- workers only read the warehouse ---------------------------------------------------------------------


def due_campaign_frozen_at_send(home: Home) -> int:
    """A campaign to tenant 1's 3 customers, due now, whose audience the send run freezes from the warehouse."""
    ledger = with_twilio(home)
    warehouse = small_warehouse(home, count=3)
    now = time.time()
    campaign = create_campaign(ledger, 1, "Reminder", TEMPLATE, AudienceQuery(1, "all_customers"), FAST,
                               schedule=Schedule(now, 7200, "send"), now=now - 60)  # fmt: skip
    launch(ledger, warehouse, 1, campaign.campaign_id, now=now - 60)
    assert get_campaign(ledger, 1, campaign.campaign_id).recipient_count == 0  # nothing read from it yet
    return campaign.campaign_id


def identity(path: Path) -> tuple:
    """The file's bytes (SHA-256), size, inode and modification time."""
    info = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), info.st_size, info.st_ino, info.st_mtime_ns


def warehouse_files(home: Home) -> set[str]:
    """The warehouse and anything named after it beside it (a WAL, a lock, a copy being written)."""
    return {p.name for p in home.root.iterdir() if home.warehouse.name in p.name}


def assert_sent_from_the_warehouse(home: Home, campaign_id: int, simulator) -> None:
    run = finished_run(home, campaign_id)
    assert run.status == dg.DagsterRunStatus.SUCCESS and run.tags[STOPPED_TAG] == "completed"
    assert get_campaign(Ledger(home.ledger), 1, campaign_id).recipient_count == 3  # frozen by the run, from it
    assert len(simulator.accepted()) == 3


def test_a_send_run_leaves_the_warehouse_file_as_it_found_it(home, simulator):
    campaign_id = due_campaign_frozen_at_send(home)
    before, names = identity(home.warehouse), warehouse_files(home)

    launch_send_run(home, 1, campaign_id, "launch", "tester")  # `dagster api execute_run`, as a run worker runs it
    assert_sent_from_the_warehouse(home, campaign_id, simulator)

    assert identity(home.warehouse) == before
    assert warehouse_files(home) == names  # no WAL, no copy, no spill folder left beside it


def can_mount_privately() -> bool:
    unshare = shutil.which("unshare")
    return bool(unshare) and subprocess.run([unshare, "-m", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not can_mount_privately(), reason="needs `unshare -m` (root or user namespaces)")
def test_a_send_run_works_with_the_warehouse_mounted_read_only(home, simulator):
    """As on a worker that mounts the warehouse read-only: the run process sees the file on a read-only bind mount
    (its own mount namespace), checked by a write that fails before the run starts."""
    campaign_id = due_campaign_frozen_at_send(home)
    before = identity(home.warehouse)
    start = f"from orchestration.config import Home; from orchestration.defs.launch import launch_send_run; " \
            f"launch_send_run(Home.resolve(), 1, {campaign_id}, 'launch', 'tester')"  # fmt: skip
    script = ('mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" "$1" || exit 97\n'
              'if (: >> "$1") 2>/dev/null; then exit 98; fi\n'
              'exec "$2" -c "$3"')  # fmt: skip

    done = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", str(home.warehouse), sys.executable, start],
                          env={**os.environ, "PYTHONPATH": python_path()}, cwd=ROOT, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert_sent_from_the_warehouse(home, campaign_id, simulator)

    assert identity(home.warehouse) == before
