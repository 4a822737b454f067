"""Tenant isolation, property-based: with two tenants' data loaded, no call of the core API, the CLI or the
console scoped to tenant A returns or changes a row of tenant B (B's ledger and warehouse rows are snapshotted
around every example). The two tenants differ in size and in their services' names, so that a path answering
with B's rows instead of A's fails its check; `test_each_check_fails_when_its_scoping_is_broken` proves it."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from orchestration.audiences import AudienceQuery, filter_options, preview, recipients, segment_sizes
from orchestration.auth import audit, users
from orchestration.cli import main
from orchestration.config import Home
from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.ledger.suppression import SuppressionList
from orchestration.messages import templates
from orchestration.sender import (
    attempts_of,
    cancel,
    create_campaign,
    delivery_log,
    export_csv,
    get_campaign,
    launch,
    list_campaigns,
    pause,
    progress,
    resume,
    run_campaign,
    send_manual,
    status,
)
from orchestration.tenants import (
    TokenCipher,
    TwilioCredentials,
    get_settings,
    load_twilio,
    save_twilio,
    twilio_summary,
    update_settings,
)
from orchestration.warehouse import Warehouse
from tests.reliability.harness import full_size, ledger_query, simulator_process, write_figures
from tests.signed_in import PASSWORD, sign_in_as
from tests.test_segments import appointment, build_warehouse, customer

TENANTS = (1, 2)
SID = {1: "AC" + "1" * 32, 2: "AC" + "2" * 32}
FROM = {1: "+15550100001", 2: "+15550100002"}
CUSTOMERS = {1: 15, 2: 18}  # different sizes: a count of the other tenant's never passes for one's own
TOKEN = {1: "a1" * 16, 2: "b2" * 16}
SEGMENTS = ("all_customers", "all_appointments", "first_time", "recent_bookers", "lapsed")
CALLS: Counter = Counter()
EXAMPLES_PER_PATH = 5 if full_size() else 3  # each path leads that many examples (then 0-3 random paths follow it)

# --- the two tenants ---------------------------------------------------------------------------------------


class World:
    """A home with two tenants: warehouse customers, credentials on the simulator, templates, suppression
    entries and campaigns (some sent) for each."""

    def __init__(self, root: Path, base_url: str) -> None:
        self.home = Home.resolve(root).ensure()
        self.ledger, self.warehouse = Ledger(self.home.ledger), Warehouse(self.home.warehouse)
        self.cipher = TokenCipher.for_home(self.home)
        people = [(t, cid) for t in TENANTS for cid in range(100, 100 + CUSTOMERS[t])]
        build_warehouse(self.home.warehouse,
                        [customer(cid, tenant=t, phone=f"+1{200 + t}555{cid:04d}") for t, cid in people],
                        [appointment(t * 10_000 + cid, cid, 1_700_000_000, tenant=t) for t, cid in people],
                        tenants=TENANTS)  # fmt: skip
        for tenant in TENANTS:
            save_twilio(self.ledger, tenant, TwilioCredentials(SID[tenant], TOKEN[tenant], FROM[tenant],
                                                               api_base_url=base_url), self.cipher)  # fmt: skip
            users.add_user(self.ledger, f"admin{tenant}@example.com", "admin", tenant, PASSWORD)
            templates.save(self.ledger, tenant, f"T{tenant} welcome", f"Hello from tenant {tenant}")
            SuppressionList(self.ledger, tenant).add(f"+1{200 + tenant}5550100", reason=f"tenant {tenant} stop")
            draft = create_campaign(self.ledger, tenant, f"T{tenant} spring", "Hi {customer_first_name}",
                                    AudienceQuery(tenant, "all_customers"))  # fmt: skip
            launch(self.ledger, self.warehouse, tenant, draft.campaign_id)
            run_campaign(self.home, tenant, draft.campaign_id)
            draft = create_campaign(self.ledger, tenant, f"T{tenant} draft", "Bye", AudienceQuery(tenant, "first_time"))

    def phones(self, tenant: int) -> set[str]:
        return {f"+1{200 + tenant}555{cid:04d}" for cid in range(100, 100 + CUSTOMERS[tenant])}

    def campaign_ids(self) -> dict[int, int]:
        """campaign id -> its tenant."""
        return {r[0]: r[1] for r in ledger_query(self.home.ledger, "SELECT campaign_id, tenant_id FROM campaigns")}

    def snapshot(self, tenant: int) -> dict[str, list]:
        """Every ledger and warehouse row of one tenant."""
        scoped = {
            "tenants": "SELECT * FROM tenants WHERE tenant_id = ?",
            "tenant_credentials": "SELECT * FROM tenant_credentials WHERE tenant_id = ?",
            "templates": "SELECT * FROM templates WHERE tenant_id = ?",
            "suppression": "SELECT * FROM suppression WHERE tenant_id = ?",
            "campaigns": "SELECT * FROM campaigns WHERE tenant_id = ?",
            "recipients": "SELECT r.* FROM recipients r JOIN campaigns c USING (campaign_id) WHERE c.tenant_id = ?",
            "attempts": "SELECT a.* FROM attempts a JOIN campaigns c USING (campaign_id) WHERE c.tenant_id = ?",
            "users": "SELECT * FROM users WHERE tenant_id = ?",
            "audit_log": "SELECT * FROM audit_log WHERE tenant_id = ?",
        }
        rows = {name: sorted(map(tuple, ledger_query(self.home.ledger, sql, (tenant,))))
                for name, sql in scoped.items()}  # fmt: skip
        with self.warehouse.reader() as con:
            tables = [r[0] for r in con.execute(
                "SELECT table_name FROM information_schema.columns WHERE column_name = 'tenant_id'").fetchall()]
            for table in tables:
                rows[f"warehouse.{table}"] = sorted(
                    map(repr, con.execute(f'SELECT * FROM "{table}" WHERE tenant_id = ?', [tenant]).fetchall()))
        return rows


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("isolation")
    accounts = [arg for t in TENANTS for arg in ("--account", f"{SID[t]}:{TOKEN[t]}")]
    with simulator_process(workdir, *accounts, "--no-suffix-errors") as simulator:
        built = World(workdir / "home", simulator.base_url)
        built.simulator = simulator
        yield built
    by_path: dict[str, dict[str, int]] = {}
    for (name, outcome), n in sorted(CALLS.items()):
        if name != "*":
            by_path.setdefault(name, {})[outcome] = n
    write_figures("tenant_isolation", {
        "examples": CALLS["*", "examples"], "paths": len(by_path),
        "calls": sum(n for (name, _), n in CALLS.items() if name != "*"),
        "calls_by_path": by_path, "examples_where_the_other_tenant_changed": CALLS["*", "b_changed"]})  # fmt: skip


# --- the paths, each a call scoped to tenant `a`, checking what it returns ---------------------------------


def pick(data: st.DataObject, items: list):
    """One of `items`, drawn as an index so that a list that grows between examples keeps generation stable."""
    return items[data.draw(st.integers(0, 10_000)) % len(items)]


def a_phone(world: World, a: int, data: st.DataObject) -> str:
    """A number to act on: often one the other tenant suppressed or has as a customer, sometimes one of a's own."""
    whose = data.draw(st.sampled_from(["other_suppressed", "other_suppressed", "other", "own"]))
    if whose == "other_suppressed":
        return f"+1{200 + 3 - a}5550100"
    return pick(data, sorted(world.phones(3 - a if whose == "other" else a)))


def _own_campaign(world: World, a: int, campaign) -> None:
    assert campaign.tenant_id == a


def p_preview(world, a, data):
    query = AudienceQuery(a, data.draw(st.sampled_from(SEGMENTS)), exclude_suppressed=data.draw(st.booleans()))
    result = preview(world.warehouse, world.ledger, query, sample=50)
    assert result.tenant_id == a and set(result.sample["phone_e164"]) <= world.phones(a)


def p_recipients(world, a, data):
    query = AudienceQuery(a, data.draw(st.sampled_from(SEGMENTS)))
    for frame in recipients(world.warehouse, world.ledger, query, chunk_size=7):
        assert set(frame["phone_e164"]) <= world.phones(a)


def p_filter_options(world, a, data):
    options = filter_options(world.warehouse, a)
    with world.warehouse.reader() as con:  # both tenants have services 1 and 2: the names tell them apart
        own = set(con.execute("SELECT service_id, name FROM services WHERE tenant_id = ?", [a]).fetchall())
    assert own and set(options.services[["service_id", "name"]].itertuples(index=False, name=None)) == own


def p_segment_sizes(world, a, data):
    sizes = segment_sizes(world.warehouse, world.ledger, a).set_index("segment")
    everyone = sizes.loc["all_customers"]  # each of a's customers is a recipient or suppressed: a's count exactly
    assert everyone["recipients"] + everyone["suppressed"] == CUSTOMERS[a] >= sizes["recipients"].max()


def p_get_campaign(world, a, data):
    campaign_id = pick(data, sorted(world.campaign_ids()))
    _own_campaign(world, a, get_campaign(world.ledger, a, campaign_id))


def p_list_campaigns(world, a, data):
    for campaign in list_campaigns(world.ledger, a):
        _own_campaign(world, a, campaign)


def p_status(world, a, data):
    campaign_id = pick(data, sorted(world.campaign_ids()))
    _own_campaign(world, a, status(world.ledger, a, campaign_id).campaign)
    assert progress(world.ledger, a, campaign_id).sender["sender"] == FROM[a]  # the sender of a's credentials


def p_delivery_log(world, a, data):
    campaign_id = pick(data, sorted(world.campaign_ids()))
    log = delivery_log(world.ledger, a, campaign_id, phone=data.draw(st.sampled_from([None, *world.phones(3 - a)])))
    assert set(log["phone_e164"]) <= world.phones(a) | _typed(world, a)


def _typed(world: World, a: int) -> set[str]:
    """Numbers tenant a typed into manual sends (any number may be typed; it stays a's row)."""
    return {r[0] for r in ledger_query(world.home.ledger, "SELECT r.phone_e164 FROM recipients r JOIN campaigns c "
                                       "USING (campaign_id) WHERE c.tenant_id = ?", (a,))}  # fmt: skip


def p_attempts_of(world, a, data):
    rows = ledger_query(world.home.ledger, "SELECT campaign_id, recipient_id FROM recipients")
    campaign_id, recipient_id = pick(data, [tuple(r) for r in rows])
    found = attempts_of(world.ledger, a, campaign_id, recipient_id)
    assert found.empty or world.campaign_ids()[campaign_id] == a


def p_export_csv(world, a, data):
    campaign_id = pick(data, sorted(world.campaign_ids()))
    out = world.home.root / f"export-{a}-{campaign_id}.csv"
    out.unlink(missing_ok=True)
    try:
        export_csv(world.ledger, a, campaign_id, out)
    except UserError:
        assert not out.exists()
        raise
    assert not any(phone in out.read_text() for phone in world.phones(3 - a) - _typed(world, a))


def p_lifecycle(world, a, data):
    campaign_id = pick(data, sorted(world.campaign_ids()))
    action = data.draw(st.sampled_from([pause, resume, cancel]))
    _own_campaign(world, a, action(world.ledger, a, campaign_id))


def p_launch(world, a, data):
    campaign_id = pick(data, sorted(world.campaign_ids()))
    _own_campaign(world, a, launch(world.ledger, world.warehouse, a, campaign_id))


def p_create_and_launch(world, a, data):
    segment = data.draw(st.sampled_from(SEGMENTS))
    draft = create_campaign(world.ledger, a, "prop", "Hi {customer_name}", AudienceQuery(a, segment))
    launched = launch(world.ledger, world.warehouse, a, draft.campaign_id)
    assert set(delivery_log(world.ledger, a, launched.campaign_id)["phone_e164"]) <= world.phones(a)


def p_run(world, a, data):
    campaign_id = pick(data, sorted(world.campaign_ids()))
    before = len(world.simulator.accepted())
    summary = run_campaign(world.home, a, campaign_id, max_wait_s=0)
    assert summary.tenant_id == a
    assert {m["account_sid"] for m in world.simulator.accepted()[before:]} <= {SID[a]}


def p_send_manual(world, a, data):
    phones = [a_phone(world, a, data) for _ in range(data.draw(st.integers(1, 3)))]
    campaign = send_manual(world.ledger, a, [(p, "") for p in phones], "Typed")
    _own_campaign(world, a, campaign)


def p_templates(world, a, data):
    name = data.draw(st.sampled_from(["T1 welcome", "T2 welcome", "prop"]))
    action = data.draw(st.sampled_from(["get", "list", "save", "delete"]))
    if action == "get":
        assert templates.get(world.ledger, a, name).tenant_id == a
    elif action == "list":
        assert {t.tenant_id for t in templates.list_templates(world.ledger, a)} <= {a}
    elif action == "save":
        assert templates.save(world.ledger, a, name, f"Body of {a}").tenant_id == a
    else:
        templates.delete(world.ledger, a, name)


def p_suppression_add(world, a, data):
    SuppressionList(world.ledger, a).add(a_phone(world, a, data), reason="prop")


def p_suppression_remove(world, a, data):
    SuppressionList(world.ledger, a).remove(a_phone(world, a, data))


def p_suppression_import(world, a, data):
    phones = "\n".join(a_phone(world, a, data) for _ in range(data.draw(st.integers(1, 3))))
    SuppressionList(world.ledger, a).import_csv(f"phone\n{phones}\n".encode())


def p_suppression_read(world, a, data):
    listed = SuppressionList(world.ledger, a)
    with world.ledger.read() as con:
        own = {r[0] for r in con.execute("SELECT phone_e164 FROM suppression WHERE tenant_id = ?", (a,))}
    assert {e.phone_e164 for e in listed.entries()} == set(listed.numbers()) == own
    assert listed.contains_many(world.phones(3 - a)) <= own
    exported = listed.export_csv()
    assert all(n in exported for n in own) and exported.count("\n") == len(own) + 1


def p_settings(world, a, data):
    if data.draw(st.booleans()):
        update_settings(world.ledger, a, max_attempts=data.draw(st.integers(1, 5)), name=f"Tenant {a}")
    assert get_settings(world.ledger, a).tenant_id == a


def p_credentials(world, a, data):
    assert twilio_summary(world.ledger, a).account_sid == SID[a]
    assert load_twilio(world.ledger, a, world.cipher).auth_token == TOKEN[a]
    if data.draw(st.booleans()):
        current = load_twilio(world.ledger, a, world.cipher)
        save_twilio(world.ledger, a, TwilioCredentials(SID[a], TOKEN[a], current.from_number,
                                                       api_base_url=current.api_base_url), world.cipher)  # fmt: skip


def p_cli(world, a, data):
    campaign_id = str(pick(data, sorted(world.campaign_ids())))
    out = str(world.home.root / "cli-export.csv")
    args = data.draw(st.sampled_from([
        ["campaign", "list", "--json"], ["campaign", "status", campaign_id, "--json"], ["suppression", "list"],
        ["suppression", "export"], ["template", "list"], ["tenant", "show"],
        ["preview", "--segment", "all_customers", "--json", "--sample", "50"],
        ["logs", "export", campaign_id, "--out", out],
        ["campaign", "pause", campaign_id], ["suppression", "add", a_phone(world, a, data)],
        ["suppression", "remove", a_phone(world, a, data)],
        ["send-manual", "--to", a_phone(world, a, data), "--template", "Typed", "--queue-only"],
    ]))  # fmt: skip
    result = CliRunner().invoke(main, ["--home", str(world.home.root), *args, "--tenant", str(a)])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    others = (world.phones(3 - a) - _typed(world, a) - set(SuppressionList(world.ledger, a).numbers())) | {
        SID[3 - a], TOKEN[3 - a], f"T{3 - a} "}
    others -= set(args)  # echoing back a number the caller typed shows them nothing of the other tenant
    assert not [marker for marker in others if marker in result.output], (args, result.output)


def p_audit(world, a, data):
    action = data.draw(st.sampled_from([None, "suppression", "campaign"]))
    rows = audit.entries(world.ledger, a, action=action)
    own = {r[0] for r in ledger_query(world.home.ledger, "SELECT audit_id FROM audit_log WHERE tenant_id = ? AND "
                                      "(? IS NULL OR action LIKE ? || '.%')", (a, action, action))}  # fmt: skip
    assert set(rows["tenant_id"]) <= {a} and set(rows["audit_id"]) == own


def p_users(world, a, data):
    assert {u.email for u in users.list_users(world.ledger, a)} <= {f"admin{a}@example.com", f"analyst{a}@example.com"}


CONSOLE_PAGES = ("audience", "campaigns", "logs", "suppression", "compose", "send", "settings", "audit")


def p_console(world, a, data):
    """A page of the console, signed in as an admin of `a`, with the other tenant written into the session state
    (a replayed or forged choice): it shows nothing of the other tenant."""
    from streamlit.testing.v1 import AppTest

    from console import ui
    from tests.test_console import APP, texts

    page = data.draw(st.sampled_from(CONSOLE_PAGES))
    before, os.environ["BKNTC_SMS_HOME"] = os.environ.get("BKNTC_SMS_HOME"), str(world.home.root)
    try:
        app = AppTest.from_file(str(APP), default_timeout=120)
        app.session_state[ui.SESSION_KEY] = sign_in_as(world.home, f"admin{a}@example.com", "admin", a)
        app.session_state[ui.TENANT_KEY] = 3 - a
        app.run()
        if page != "audience":
            app.switch_page(f"views/{page}.py").run()
    finally:
        os.environ.pop("BKNTC_SMS_HOME") if before is None else os.environ.update(BKNTC_SMS_HOME=before)
    shown = texts(app)
    others = (world.phones(3 - a) - _typed(world, a) - set(SuppressionList(world.ledger, a).numbers())) | {
        SID[3 - a], f"T{3 - a} ", f"admin{3 - a}@"}
    assert not app.exception and not [m for m in others if m in shown], (page, [m for m in others if m in shown])


PATHS = {name[2:]: fn for name, fn in dict(globals()).items() if name.startswith("p_") and callable(fn)}


@pytest.mark.slow
@pytest.mark.parametrize("first", sorted(PATHS))
@settings(max_examples=EXAMPLES_PER_PATH, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
          database=None, phases=[Phase.explicit, Phase.generate])  # the world keeps state: no replay, no shrink
@given(data=st.data())
def test_no_call_scoped_to_one_tenant_returns_or_changes_another_tenants_rows(world, first, data):
    a = data.draw(st.sampled_from(TENANTS), label="tenant")
    b = 3 - a
    before = world.snapshot(b)
    then = data.draw(st.lists(st.sampled_from(sorted(PATHS)), max_size=3), label="then")
    for name in [first, *then]:
        try:
            PATHS[name](world, a, data)
            CALLS[name, "answered"] += 1
        except UserError:  # refused (another tenant's campaign is "not found", a state change not allowed...)
            CALLS[name, "refused"] += 1
    after = world.snapshot(b)
    CALLS["*", "examples"] += 1
    CALLS["*", "b_changed"] += after != before
    assert after == before, {k: (before[k], after[k]) for k in before if before[k] != after[k]}


def test_the_property_covers_every_read_and_write_path():
    assert set(PATHS) >= {"preview", "recipients", "filter_options", "segment_sizes", "get_campaign",
                          "list_campaigns", "status", "delivery_log", "attempts_of", "export_csv", "lifecycle",
                          "launch", "create_and_launch", "run", "send_manual", "templates", "suppression_add",
                          "suppression_remove", "suppression_import", "suppression_read", "settings",
                          "credentials", "cli", "audit", "users", "console"}  # fmt: skip


# --- a test of the test: each repaired or new check fails when its path's tenant scoping is broken ---------------


class Draws:
    """Stands in for hypothesis' `data`: hands out the given values in order (an index for `pick`, a choice)."""

    def __init__(self, *values) -> None:
        self.values = list(values)

    def draw(self, strategy, label=None):
        return self.values.pop(0)


def _other_tenant(real, position: int = 1):
    """`real`, called with the other tenant (its argument at `position`): a scoping that answers for B."""

    def broken(*args, **kwargs):
        args = list(args)
        args[position] = 3 - args[position]
        return real(*args, **kwargs)

    return broken


def _own_campaign_index(world: World, a: int) -> int:
    return sorted(world.campaign_ids()).index(min(c for c, t in world.campaign_ids().items() if t == a))


@pytest.mark.slow
@pytest.mark.parametrize("path", ["filter_options", "segment_sizes", "status", "audit", "console"])
def test_each_check_fails_when_its_scoping_is_broken(world, monkeypatch, path):
    import console.ui
    import orchestration.sender.reports

    module = __import__(__name__, fromlist=["_"])
    a = 1
    draws = {"filter_options": Draws(), "segment_sizes": Draws(), "status": Draws(_own_campaign_index(world, a)),
             "audit": Draws(None), "console": Draws("suppression")}[path]  # fmt: skip
    PATHS[path](world, a, draws)  # scoped right: the check holds
    if path in ("filter_options", "segment_sizes"):
        monkeypatch.setattr(module, path, _other_tenant(getattr(module, path), 1 if path == "filter_options" else 2))
    elif path == "status":  # the sender of the progress view read without its tenant
        monkeypatch.setattr(orchestration.sender.reports, "twilio_summary",
                            _other_tenant(orchestration.sender.reports.twilio_summary))
    elif path == "audit":  # the audit log read for every tenant
        real = audit.entries
        monkeypatch.setattr(audit, "entries", lambda ledger, tenant, **kw: real(ledger, None, **kw))
    else:  # the console's pages given the other tenant instead of the signed-in user's
        monkeypatch.setattr(console.ui, "tenant_id", lambda: 3 - a)
    draws = {"status": Draws(_own_campaign_index(world, a)), "audit": Draws(None),
             "console": Draws("suppression")}.get(path, Draws())
    with pytest.raises(AssertionError):
        PATHS[path](world, a, draws)
