"""The ledger's two dialects: every migration exists for both, the SQL files' parameters and SQLite-only functions
are rewritten for PostgreSQL without touching literals, every ledger SQL file plans on PostgreSQL, the ledger is
chosen by URL, migrations from several processes at once apply once, several processes claiming one campaign get
disjoint chunks, and a re-send racing a run's completion of its campaign is sent, never stranded."""

from __future__ import annotations

import json
import multiprocessing
import re
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from orchestration.config import LEDGER_URL_ENV, Home
from orchestration.delivery import apply_status
from orchestration.delivery.rules import select_resends, update_rules
from orchestration.errors import UserError
from orchestration.ledger import Ledger, store
from orchestration.ledger import postgres as pg
from orchestration.sender import delivery_log, get_campaign, run_campaign
from orchestration.sqlfiles import (
    POSTGRES_DIR,
    SQL_DIR,
    SqlText,
    load_sql,
    postgres_sql,
    to_postgres_dialect,
    to_psycopg,
)
from tests.fixtures.servers import free_port, fresh_database
from tests.sending import manual, numbers, wait_for, with_twilio
from tests.test_delivery_rules import UNREACHABLE, creates_for

# What runs on the ledger: these areas, and the ledger's own files in other areas (the rest are warehouse queries).
LEDGER_SQL = ("sender", "delivery", "inbound", "auth", "pricing", "credits", "recurring", "ledger/queries")
LEDGER_FILES = ("segments/suppressed_numbers.sql",)
WORKERS = 4
CHUNK = 10

# --- both dialects, no server needed ----------------------------------------------------------------------


def test_every_migration_exists_for_both_dialects_under_the_same_version_and_name():
    sqlite = {version: path.name for version, path in store.migrations()}
    postgres = {version: path.name for version, path in pg.migrations()}
    assert sqlite, "no SQLite migration found"
    missing = {f"sql/postgres/ledger/{name}" for v, name in sqlite.items() if postgres.get(v) != name}
    extra = {f"sql/ledger/{name}" for v, name in postgres.items() if sqlite.get(v) != name}
    assert not missing, f"migrations without a PostgreSQL version (see docs/ARCHITECTURE.md): {sorted(missing)}"
    assert not extra, f"PostgreSQL migrations without a SQLite version: {sorted(extra)}"


def test_every_postgres_variant_replaces_a_shared_file():
    variants = [p.relative_to(POSTGRES_DIR) for p in POSTGRES_DIR.rglob("*.sql")]
    migrations = {path.relative_to(POSTGRES_DIR) for _, path in pg.migrations()}
    orphans = [str(v) for v in variants if v not in migrations and not (SQL_DIR / v).is_file()]
    assert orphans == []


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = %s AND b = %s"),
        ("UPDATE t SET a = :a WHERE id = :id_2", "UPDATE t SET a = %(a)s WHERE id = %(id_2)s"),
        ("SELECT ':no' || '?' || 'it''s :x', :yes", "SELECT ':no' || '?' || 'it''s :x', %(yes)s"),
        ("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')", "SELECT strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', 'now')"),
        ("SELECT CAST(:v AS json), :v::text", "SELECT CAST(%(v)s AS json), %(v)s::text"),
        ("-- why? :none here, 100%\nSELECT a % 2 FROM \"t?\"", "-- why? :none here, 100%%\nSELECT a %% 2 FROM \"t?\""),
        ("/* :x ? */ SELECT ?", "/* :x ? */ SELECT %s"),
    ],
)
def test_parameters_are_rewritten_for_psycopg_outside_literals_comments_and_casts(sql, expected):
    assert to_psycopg(sql) == expected


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT value FROM json_each(:ids)", "SELECT value FROM json_array_elements_text(CAST(:ids AS json))"),
        ("SELECT json_extract(e.raw_json, '$.From')", "SELECT (CAST(e.raw_json AS json) ->> 'From')"),
        ("SET a = max(a, coalesce(b, 0)), b = MIN(a,b,c)", "SET a = greatest(a, coalesce(b, 0)), b = least(a,b,c)"),
        ("SELECT max(json_extract(j, '$.n'), min(a, b))", "SELECT greatest((CAST(j AS json) ->> 'n'), least(a, b))"),
        ("SELECT max(a), min(b) OVER (PARTITION BY c) FROM t", None),  # the aggregates: the same on both
        ("SELECT json_extract(j, '$.a[0]'), t.max(a, b)", None),  # no rewrite known; not SQLite's function
        ("SELECT 'max(a, b)', \"max\"(a, b) -- json_each(x)\n/* min(a, b) */ FROM t", None),
        ("SELECT max(a, (b) FROM t", None),  # unbalanced: left to PostgreSQL's own error
    ],
)
def test_sqlite_functions_are_rewritten_to_postgres_outside_literals_and_comments(sql, expected):
    assert to_postgres_dialect(sql) == (sql if expected is None else expected)


def test_the_rewritten_sqlite_functions_give_the_same_answers_on_both_ledgers(ledger_url):
    """Fails on PostgreSQL without the rewrite: it has no `json_each` or `json_extract`, and `max` there takes one
    argument."""
    with Ledger(ledger_url).read() as con:
        row = con.execute(
            "SELECT max(2, ?) AS high, min(2, ?) AS low, json_extract(?, '$.From') AS sender,"
            " (SELECT sum(CAST(value AS BIGINT)) FROM json_each(?)) AS total, 'max(1, 2)' AS kept",
            (3, 1, '{"From": "+15550001"}', "[1, 2, 4]"),
        ).fetchone()
    assert (row["high"], row["low"], row["sender"], row["total"], row["kept"]) == (3, 1, "+15550001", 7, "max(1, 2)")


def test_a_file_with_a_postgres_variant_is_replaced_and_one_without_is_shared():
    claim = load_sql("sender/claim_candidates.sql")
    assert isinstance(claim, SqlText) and "SKIP LOCKED" not in claim
    assert "FOR UPDATE SKIP LOCKED" in postgres_sql(claim)
    shared = load_sql("sender/claim_set_lease.sql")
    assert postgres_sql(shared) == to_psycopg(shared)
    rewritten = load_sql("sender/sids_owned.sql")
    assert "json_each" in rewritten and not (POSTGRES_DIR / rewritten.name).exists()
    assert postgres_sql(rewritten) == to_psycopg(to_postgres_dialect(rewritten))
    assert "json_array_elements_text(CAST(%(sids)s AS json))" in postgres_sql(rewritten)


def test_the_ledger_is_chosen_by_url_then_by_the_home_setting_then_is_the_homes_sqlite_file(home, monkeypatch):
    assert home.ledger == home.ledger_file == home.root / "ledger.sqlite"
    home.ledger_url_file.write_text("postgresql://u:pw@db.example:5432/ledger\n", encoding="utf-8")
    assert Home.resolve(home.root).ledger == "postgresql://u:pw@db.example:5432/ledger"
    monkeypatch.setenv(LEDGER_URL_ENV, "postgresql://other@db2/ledger")
    assert home.ledger == "postgresql://other@db2/ledger"
    opened = Ledger("postgresql://u:pw@db.example:5432/ledger", migrate=False)
    assert (type(opened).__name__, opened.dialect, opened.location) == (
        "PostgresLedger", "postgresql", "postgresql://u:pw@db.example:5432/ledger")  # fmt: skip
    assert "pw" not in repr(opened)
    assert Ledger(home.ledger_file).dialect == "sqlite"


def test_an_unreachable_postgres_url_is_one_clear_error_without_the_password(monkeypatch):
    monkeypatch.setattr(pg, "CONNECT_TIMEOUT_S", 1.0)
    port = free_port(range(25900, 26000))  # nothing listens there
    with pytest.raises(UserError, match="Cannot connect to the PostgreSQL ledger") as raised:
        Ledger(f"postgresql://bkntc:hunter2@127.0.0.1:{port}/ledger")
    assert "hunter2" not in str(raised.value) and f"127.0.0.1:{port}/ledger" in str(raised.value)


# --- PostgreSQL ------------------------------------------------------------------------------------------------


def _ledger_files() -> list[str]:
    names = []
    for area in LEDGER_SQL:
        for path in sorted((SQL_DIR / area).glob("*.sql")):
            if "$" not in path.read_text(encoding="utf-8"):  # DuckDB's `$name`: a warehouse query kept nearby
                names.append(str(path.relative_to(SQL_DIR)))
    return names + list(LEDGER_FILES)


def _plan_parameters(sql: str) -> dict | list:
    """A value of the right kind for each parameter: a number for times, limits and delays, else NULL."""
    bare = re.sub(r"'(?:[^']|'')*'|--[^\n]*", "", sql)
    names = set(re.findall(r"(?<!:):([A-Za-z_]\w*)", bare))
    number = re.compile(r"limit|now|_s$|_at$")
    if names:
        return {name: 0 if number.search(name) else None for name in names}
    return [None] * bare.count("?")


@pytest.mark.postgres
def test_every_ledger_sql_file_plans_on_postgres(postgres_server):
    ledger = Ledger(fresh_database(postgres_server))
    failed = {}
    with ledger.read() as con:
        for name in _ledger_files():
            sql = load_sql(name)
            try:
                con.raw.cursor().execute("EXPLAIN " + postgres_sql(sql), _plan_parameters(sql))
            except Exception as exc:  # noqa: BLE001 - every file's error, not the first only
                failed[name] = str(exc).splitlines()[0]
    pg.close_pools()
    assert failed == {}, (
        "teach sqlfiles.to_postgres_dialect the difference, or write a PostgreSQL variant in "
        "sql/postgres/<same path> (see docs/ARCHITECTURE.md)"
    )


def _migrate_worker(url: str, barrier, out) -> None:
    try:
        barrier.wait(timeout=60)
        out.put(Ledger(url).version())
    except BaseException:
        out.put(traceback.format_exc())


@pytest.mark.postgres
def test_several_processes_migrating_one_new_database_at_once_apply_each_version_once(postgres_server):
    url = fresh_database(postgres_server)
    context = multiprocessing.get_context("spawn")
    barrier, out = context.Barrier(WORKERS), context.Queue()
    processes = [context.Process(target=_migrate_worker, args=(url, barrier, out)) for _ in range(WORKERS)]
    for process in processes:
        process.start()
    results = [out.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    latest = pg.migrations()[-1][0]
    assert results == [latest] * WORKERS
    with Ledger(url, migrate=False).read() as con:
        versions = [row[0] for row in con.execute("SELECT version FROM ledger_version ORDER BY version")]
    pg.close_pools()
    assert versions == [version for version, _ in pg.migrations()]


def _claim_worker(url: str, worker: int, campaign_id: int, barrier, out) -> None:
    """Claims chunks of the campaign with the engine's own statements until none is left. The first claim waits
    for every other worker's first claim while its transaction is open: they can only all get there if no claim
    waits for another's locked rows."""
    try:
        ledger = Ledger(url)
        claimed, chunk = [], 0
        while True:
            with ledger.write() as con:
                ids = [row[0] for row in con.execute(load_sql("sender/claim_candidates.sql"),
                                                     {"campaign_id": campaign_id, "now": time.time(), "limit": CHUNK})]
                if ids:
                    rows = con.execute(load_sql("sender/claim_mark_sending.sql"),
                                       {"ids": json.dumps(ids), "claim_id": f"w{worker}-{chunk}", "lease_until": 0,
                                        "now": 0}).fetchall()  # fmt: skip
                    claimed += [row["recipient_id"] for row in rows]
                if chunk == 0:
                    barrier.wait(timeout=60)
            chunk += 1
            if not ids:
                break
        out.put((worker, claimed))
    except BaseException:
        out.put((worker, traceback.format_exc()))


@pytest.mark.postgres
def test_several_processes_claiming_one_campaign_get_disjoint_chunks_and_lose_none(home, postgres_server, monkeypatch):
    ledger_url = fresh_database(postgres_server)  # PostgreSQL only: SQLite's claims never run at once (one writer)
    monkeypatch.setenv(LEDGER_URL_ENV, ledger_url)
    ledger = with_twilio(home)
    campaign_id = manual(ledger, numbers(400))
    with ledger.read() as con:
        everyone = sorted(row[0] for row in con.execute(
            "SELECT recipient_id FROM recipients WHERE campaign_id = ?", (campaign_id,)))  # fmt: skip
    context = multiprocessing.get_context("spawn")
    barrier, out = context.Barrier(WORKERS), context.Queue()
    processes = [context.Process(target=_claim_worker, args=(ledger_url, w, campaign_id, barrier, out))
                 for w in range(WORKERS)]  # fmt: skip
    for process in processes:
        process.start()
    results = dict(out.get(timeout=180) for _ in processes)
    for process in processes:
        process.join(timeout=60)
    errors = [r for r in results.values() if isinstance(r, str)]
    assert errors == []
    claimed = [rid for worker in results.values() for rid in worker]
    assert len(claimed) == len(set(claimed)), "a recipient was claimed twice"  # 0 duplicates
    assert sorted(claimed) == everyone  # 0 lost
    assert all(len(worker) >= CHUNK for worker in results.values())  # every worker claimed, at the same time
    with ledger.read() as con:
        states = dict(con.execute("SELECT state, count(*) FROM recipients WHERE campaign_id = ? GROUP BY state",
                                  (campaign_id,)).fetchall())  # fmt: skip
    pg.close_pools()
    assert states == {"sending": len(everyone)}


# A backend waiting for a campaign's row lock (sender/campaign_lock.sql: a lifecycle transition, a run's completion
# check, a re-send's lock), seen from another connection.
_CAMPAIGN_LOCK_WAITS = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FROM campaigns%FOR UPDATE%'
"""


@pytest.mark.postgres
def test_a_resend_while_a_run_completes_its_campaign_is_sent_once_never_stranded(
    home, simulator, postgres_server, monkeypatch
):
    """The run checks what is left and completes the campaign while a re-send after 30003 puts a recipient back to
    pending. The test holds a KEY SHARE lock on the campaign's row from the moment the run has recorded its only
    chunk: it blocks exactly the FOR UPDATE of a completion (the run's own claims, FOR SHARE, pass), so the run
    waits at its completion with nothing pending, and the re-send runs meanwhile. Unlocked, the re-send commits
    while the campaign is still sending (its reopen finds nothing completed), then the run completes it: a
    completed campaign holding a pending recipient no run ever sends."""
    url = fresh_database(postgres_server)  # PostgreSQL only: SQLite's writers never run at once
    monkeypatch.setenv(LEDGER_URL_ENV, url)
    ledger = with_twilio(home)
    update_rules(ledger, 1, resend_max=1, resend_delay_s=0)
    other = numbers(1)[0]
    campaign_id = manual(ledger, [UNREACHABLE, other])
    launched = get_campaign(ledger, 1, campaign_id)
    holder, watch = psycopg.connect(url), psycopg.connect(url, autocommit=True)

    def hold_after_the_chunk(summary) -> None:
        if summary.chunks != 1:
            return
        sid = delivery_log(ledger, 1, campaign_id).set_index("phone_e164").loc[UNREACHABLE, "message_sid"]
        assert apply_status(ledger, 1, sid, "undelivered", 30003, "callback").outcome == "applied"
        holder.execute("SELECT 1 FROM campaigns WHERE campaign_id = %s FOR KEY SHARE", (campaign_id,))

    def lock_waits() -> int:
        return watch.execute(_CAMPAIGN_LOCK_WAITS).fetchone()[0]

    with ThreadPoolExecutor(max_workers=2) as pool:
        try:
            run = pool.submit(run_campaign, home, 1, campaign_id, on_chunk=hold_after_the_chunk)
            wait_for(lambda: run.done() or lock_waits() == 1, "the run waiting to complete", 60, 0.01)
            assert not run.done(), run.result()  # the premise: the run waits to complete, its recipients all sent
            resend = pool.submit(select_resends, ledger, 1, now=time.time() + 1)
            wait_for(lambda: resend.done() or lock_waits() == 2,  # done (unlocked) or waiting behind the run
                     "the re-send done or waiting", 60, 0.01)
        finally:
            holder.commit()  # whatever failed, nothing is left waiting on the test's lock
        first_run, resent = run.result(timeout=60), resend.result(timeout=60)
    holder.close()
    watch.close()

    campaign = get_campaign(ledger, 1, campaign_id)
    left = delivery_log(ledger, 1, campaign_id).set_index("phone_e164").loc[UNREACHABLE, "state"]
    assert resent == 1
    assert (campaign.state, left) in {("queued", "pending"), ("completed", "sent")}, (
        f"campaign {campaign.state} while the re-sent recipient is {left} (first run: {first_run.stopped})")
    if campaign.state == "queued":  # the run completed first: the re-send reopened it for the sensor's next run
        assert campaign.generation == launched.generation + 1 and campaign.finished_at is None
    run_campaign(home, 1, campaign_id)
    assert get_campaign(ledger, 1, campaign_id).state == "completed"
    assert delivery_log(ledger, 1, campaign_id).set_index("phone_e164").loc[UNREACHABLE, "state"] == "sent"
    assert creates_for(simulator, UNREACHABLE) == 2 and creates_for(simulator, other) == 1  # re-sent exactly once
    pg.close_pools()
