"""The ledger's tenants, settings, templates and suppression list: validation, tenant scoping, and
several processes writing one real ledger file at once without losing anything or showing a lock error."""

from __future__ import annotations

import multiprocessing
import traceback

import pytest

from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.ledger.suppression import SuppressionList
from orchestration.messages import templates
from orchestration.tenants import TenantSettings, ensure_tenant, get_settings, update_settings

WORKERS = 4
pytestmark = pytest.mark.usefixtures("ledger_url")  # every test on SQLite and on PostgreSQL


@pytest.fixture
def ledger(home) -> Ledger:
    return Ledger(home.ledger)


# --- settings -----------------------------------------------------------------------------------------


def test_an_unconfigured_tenant_reads_the_defaults_without_writing_a_row(ledger):
    assert get_settings(ledger, 7) == TenantSettings(tenant_id=7)
    with ledger.read() as con:
        assert con.execute("SELECT count(*) FROM tenants").fetchone()[0] == 0


def test_defaults_are_those_the_booknetic_add_on_users_know(ledger):
    settings = ensure_tenant(ledger, 0)
    assert (settings.default_region, settings.max_attempts, settings.retry_base_seconds) == ("US", 3, 120.0)


def test_update_changes_only_the_settings_given(ledger):
    update_settings(ledger, 1, default_region="gb", rate_limit_per_s=2.5)
    settings = update_settings(ledger, 1, max_attempts=5)
    assert (settings.default_region, settings.rate_limit_per_s, settings.max_attempts) == ("GB", 2.5, 5)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"default_region": "XX"}, "Unknown phone region"),
        ({"rate_limit_per_s": 0}, "greater than 0"),
        ({"rate_limit_per_s": float("inf")}, "greater than 0"),
        ({"retry_base_seconds": -1}, "greater than 0"),
        ({"max_attempts": 0}, "whole number >= 1"),
        ({"max_attempts": 2.5}, "whole number >= 1"),
        ({"failure_streak_pause": "many"}, "whole number"),
        ({"colour": "red"}, "Unknown setting"),
    ],
)
def test_invalid_settings_are_refused_with_a_clear_message_and_nothing_written(ledger, changes, words):
    with pytest.raises(UserError, match=words):
        update_settings(ledger, 1, **changes)
    assert get_settings(ledger, 1) == TenantSettings(tenant_id=1)


def test_a_negative_tenant_id_is_refused(ledger):
    with pytest.raises(UserError, match="Tenant must be"):
        get_settings(ledger, -1)


# --- tenant scoping ------------------------------------------------------------------------------------


def test_tenant_a_never_sees_tenant_b_templates(ledger):
    templates.save(ledger, 1, "welcome", "Hi {customer_first_name}")
    templates.save(ledger, 2, "welcome", "Hello from B")
    assert [t.body for t in templates.list_templates(ledger, 1)] == ["Hi {customer_first_name}"]
    assert templates.get(ledger, 2, "welcome").body == "Hello from B"


def test_deleting_a_template_of_tenant_a_leaves_tenant_b_alone(ledger):
    templates.save(ledger, 1, "welcome", "A")
    templates.save(ledger, 2, "welcome", "B")
    assert templates.delete(ledger, 1, "welcome")
    assert [t.tenant_id for t in templates.list_templates(ledger, 2)] == [2]


def test_tenant_a_never_sees_tenant_b_suppressed_numbers(ledger):
    SuppressionList(ledger, 2).add("+12125550100")
    tenant_a = SuppressionList(ledger, 1)
    assert (tenant_a.numbers(), tenant_a.entries(), tenant_a.contains_many(["+12125550100"])) == ([], [], set())


def test_removing_a_number_for_tenant_a_keeps_it_suppressed_for_tenant_b(ledger):
    SuppressionList(ledger, 1).add("+12125550100")
    SuppressionList(ledger, 2).add("+12125550100")
    SuppressionList(ledger, 1).remove("+12125550100")
    assert SuppressionList(ledger, 2).numbers() == ["+12125550100"]


def test_each_tenant_reads_national_numbers_with_its_own_region(ledger):
    update_settings(ledger, 1, default_region="GB")
    SuppressionList(ledger, 1).add("020 7946 0018")
    SuppressionList(ledger, 2).add("(212) 555-0100")
    assert (SuppressionList(ledger, 1).numbers(), SuppressionList(ledger, 2).numbers()) == (
        ["+442079460018"],
        ["+12125550100"],
    )


# --- several processes at once ---------------------------------------------------------------------------


def _import_worker(path: str, worker: int, barrier, errors) -> None:
    try:
        ledger = Ledger(path)
        barrier.wait()
        for batch in range(5):
            lines = ["phone"] + [f"+1212555{(worker * 1000 + batch * 100 + i) % 10000:04d}" for i in range(100)]
            lines += [f"+1646555{i:04d}" for i in range(50)]  # the same 50 numbers in every batch of every worker
            SuppressionList(ledger, 1).import_csv("\n".join(lines).encode())
    except BaseException:
        errors.put(traceback.format_exc())


def _settings_worker(path: str, worker: int, barrier, errors) -> None:
    field = ("rate_limit_per_s", "max_attempts", "retry_base_seconds", "failure_streak_pause")[worker]
    try:
        ledger = Ledger(path)
        barrier.wait()
        for value in range(1, 41):
            update_settings(ledger, 1, **{field: value})
    except BaseException:
        errors.put(traceback.format_exc())


def _template_worker(path: str, worker: int, barrier, errors) -> None:
    try:
        ledger = Ledger(path)
        barrier.wait()
        for index in range(40):
            templates.save(ledger, 1, f"w{worker}-t{index}", f"Hi {{customer_first_name}}, #{index}")
            templates.save(ledger, 1, "shared", f"Last write by {worker}")
    except BaseException:
        errors.put(traceback.format_exc())


def _run_workers(target, path: str) -> list[str]:
    context = multiprocessing.get_context("spawn")
    barrier, errors = context.Barrier(WORKERS), context.Queue()
    processes = [context.Process(target=target, args=(path, w, barrier, errors)) for w in range(WORKERS)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    found = []
    while not errors.empty():
        found.append(errors.get())
    found += [f"worker exited with {p.exitcode}" for p in processes if p.exitcode != 0]
    return found


@pytest.mark.slow
def test_concurrent_suppression_imports_from_several_processes_lose_no_number(ledger):
    assert _run_workers(_import_worker, ledger.location) == []
    assert SuppressionList(ledger, 1).count() == WORKERS * 500 + 50


@pytest.mark.slow
def test_concurrent_settings_updates_from_several_processes_keep_every_last_value(ledger):
    assert _run_workers(_settings_worker, ledger.location) == []
    settings = get_settings(ledger, 1)
    assert (settings.rate_limit_per_s, settings.max_attempts, settings.retry_base_seconds) == (40, 40, 40)
    assert settings.failure_streak_pause == 40


@pytest.mark.slow
def test_concurrent_template_saves_from_several_processes_lose_no_template(ledger):
    assert _run_workers(_template_worker, ledger.location) == []
    names = {t.name for t in templates.list_templates(ledger, 1)}
    assert len(names) == WORKERS * 40 + 1
