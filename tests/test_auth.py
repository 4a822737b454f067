"""Users, passwords, sessions and permissions: Argon2 hashes only, one clear error for bad input with nothing
written, a lock after 5 failed sign-ins, sessions that end on expiry, sign-out, disabling and a new password,
and roles that hold in the core whatever face calls it."""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner

from orchestration.auth import sessions, users
from orchestration.auth.actor import Actor, acting_as
from orchestration.cli import main
from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.ledger.suppression import SuppressionList
from orchestration.sender import campaigns, send_manual
from orchestration.tenants import TokenCipher, TwilioCredentials, save_twilio, update_settings

PASSWORD = "a long enough secret 1"


@pytest.fixture
def ledger(home) -> Ledger:
    return Ledger(home.ledger)


def rows(ledger: Ledger, table: str) -> list[tuple]:
    with ledger.read() as con:
        return [tuple(r) for r in con.execute(f"SELECT * FROM {table}")]  # noqa: S608 - test's own table names


def cli(home, *args: str, stdin: str | None = None):
    return CliRunner().invoke(main, ["--home", str(home.root), *args], input=stdin)


# --- users and bad input -------------------------------------------------------------------------------------


def test_the_ledger_keeps_only_an_argon2id_hash_of_the_password(home, ledger):
    assert cli(home, "user", "add", "--email", "Ann@Example.com", "--role", "admin", "--tenant", "1",
               "--password-stdin", stdin=PASSWORD + "\n").exit_code == 0
    [user] = rows(ledger, "users")
    assert user[1] == "ann@example.com" and user[4].startswith("$argon2id$")
    for path in home.ledger.parent.glob(home.ledger.name + "*"):  # the file and its WAL
        assert PASSWORD.encode() not in path.read_bytes()


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["--email", "a@b.co", "--role", "admin", "--tenant", "1"], "", "The password is empty."),
    (["--email", "a@b.co", "--role", "admin", "--tenant", "1"], "x" * 10_000, "The password is too long"),
    (["--email", "a@b.co", "--role", "admin", "--tenant", "1"], "short", "The password is too short"),
    (["--email", "x'; DROP TABLE users; --", "--role", "admin", "--tenant", "1"], PASSWORD, "Not an email"),
    (["--email", "a@b.co' OR '1'='1", "--role", "admin", "--tenant", "1"], PASSWORD, "Not an email"),
    (["--email", "a@b.co", "--role", "superuser", "--tenant", "1"], PASSWORD, "Unknown role 'superuser'"),
    (["--email", "a@b.co", "--role", "operator", "--tenant", "1"], PASSWORD, "An operator sees every tenant"),
    (["--email", "a@b.co", "--role", "analyst"], PASSWORD, "belongs to one tenant"),
])  # fmt: skip
def test_user_add_refuses_bad_input_with_one_line_and_writes_nothing(home, ledger, args, stdin, message):
    result = cli(home, "user", "add", *args, "--password-stdin", stdin=stdin)
    assert result.exit_code == 2 and result.output.count("\n") == 1 and message in result.output, result.output
    assert rows(ledger, "users") == [] and rows(ledger, "audit_log") == [] and rows(ledger, "tenants") == []
    assert "x" * 100 not in result.output  # a refused password is never echoed


@pytest.mark.parametrize("command", [["disable"], ["enable"], ["reset-password", "--password-stdin"]])
@pytest.mark.parametrize("email", ["nobody@example.com", "' OR 1=1 --@example.com"])
def test_user_commands_on_an_unknown_email_change_nothing(home, ledger, command, email):
    cli(home, "user", "add", "--email", "ann@example.com", "--role", "analyst", "--tenant", "1",
        "--password-stdin", stdin=PASSWORD)
    before = rows(ledger, "users"), rows(ledger, "audit_log")
    result = cli(home, "user", *command, "--email", email, stdin=PASSWORD)
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
    assert (rows(ledger, "users"), rows(ledger, "audit_log")) == before


def test_user_list_shows_roles_and_tenants_but_no_hash(home):
    cli(home, "user", "add", "--email", "op@example.com", "--role", "operator", "--password-stdin", stdin=PASSWORD)
    cli(home, "user", "add", "--email", "ann@example.com", "--role", "analyst", "--tenant", "2", "--password-stdin",
        stdin=PASSWORD)
    listed = cli(home, "user", "list").output
    assert "op@example.com\toperator\tall tenants\tactive" in listed
    assert "ann@example.com\tanalyst\ttenant 2\tactive" in listed and "argon2" not in listed


# --- sign-in and sessions -------------------------------------------------------------------------------------


@pytest.fixture
def ann(ledger) -> users.User:
    return users.add_user(ledger, "ann@example.com", "analyst", 1, PASSWORD)


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(ledger, ann):
    for email, password in (("ann@example.com", "wrong password!"), ("nobody@example.com", PASSWORD)):
        with pytest.raises(UserError, match=r"^Wrong email or password\.$"):
            sessions.sign_in(ledger, email, password)


def test_the_fifth_failed_sign_in_locks_the_account_for_15_minutes_even_for_the_right_password(ledger, ann):
    now = 1_800_000_000.0
    for _ in range(4):
        with pytest.raises(UserError, match="Wrong"):
            sessions.sign_in(ledger, "ann@example.com", "wrong password!", now=now)
    with pytest.raises(UserError, match="locked; try again in 15 minutes"):
        sessions.sign_in(ledger, "ann@example.com", "wrong password!", now=now)
    other_process = Ledger(ledger.path)  # the count lives in the ledger, shared by every console process
    with pytest.raises(UserError, match="locked"):
        sessions.sign_in(other_process, "ann@example.com", PASSWORD, now=now + 14 * 60)
    assert sessions.sign_in(other_process, "ann@example.com", PASSWORD, now=now + 15 * 60 + 1).user.email == ann.email


def test_a_success_resets_the_failure_count(ledger, ann):
    for _ in range(4):
        with pytest.raises(UserError):
            sessions.sign_in(ledger, "ann@example.com", "wrong password!")
    sessions.sign_in(ledger, "ann@example.com", PASSWORD)
    with pytest.raises(UserError, match="Wrong"):  # a 5th failure, but not in a row: no lock
        sessions.sign_in(ledger, "ann@example.com", "wrong password!")


def test_a_session_ends_at_its_expiry_which_is_configurable(ledger, ann, monkeypatch):
    monkeypatch.setenv(sessions.SESSION_HOURS_ENV, "2")
    session = sessions.sign_in(ledger, "ann@example.com", PASSWORD, now=1_800_000_000.0)
    assert session.expires_at == 1_800_000_000.0 + 2 * 3600
    assert sessions.check(ledger, session, now=session.expires_at - 1) is not None
    assert sessions.check(ledger, session, now=session.expires_at) is None


def test_the_default_session_lasts_12_hours(ledger, ann, monkeypatch):
    monkeypatch.delenv(sessions.SESSION_HOURS_ENV, raising=False)
    session = sessions.sign_in(ledger, "ann@example.com", PASSWORD, now=0.0)
    assert session.expires_at == 12 * 3600


@pytest.mark.parametrize("end", ["sign_out", "disable", "reset_password"])
def test_a_session_ends_at_sign_out_disabling_or_a_new_password(ledger, ann, end):
    session = sessions.sign_in(ledger, "ann@example.com", PASSWORD)
    assert sessions.check(ledger, session).user.email == "ann@example.com"
    {"sign_out": lambda: sessions.sign_out(ledger, session),
     "disable": lambda: users.set_disabled(ledger, "ann@example.com"),
     "reset_password": lambda: users.reset_password(ledger, "ann@example.com", "another good secret")}[end]()
    assert sessions.check(ledger, session) is None


def test_a_disabled_user_cannot_sign_in(ledger, ann):
    users.set_disabled(ledger, "ann@example.com")
    with pytest.raises(UserError, match="disabled"):
        sessions.sign_in(ledger, "ann@example.com", PASSWORD)


def test_a_session_token_is_not_stored_and_not_in_its_repr(ledger, ann):
    session = sessions.sign_in(ledger, "ann@example.com", PASSWORD)
    assert session.token not in repr(session)
    assert not [r for r in rows(ledger, "sessions") if session.token in r]


# --- permissions in the core ----------------------------------------------------------------------------------


def actor(role: str, tenant: int | None = 1) -> Actor:
    return Actor(f"{role}@example.com", role=role, tenant_id=tenant)


def test_an_analyst_sends_tests_but_launches_only_when_the_admin_allows_it(ledger):
    people = [("+14155550100", "")]
    with acting_as(actor("analyst")):
        assert campaigns.get_campaign(ledger, 1, _test_send(ledger).campaign_id).state == "queued"
        with pytest.raises(UserError, match="may not do send.manual in tenant 1"):
            send_manual(ledger, 1, people, "Hi")
    with acting_as(actor("admin")):
        users.set_analysts_may_launch(ledger, 1, True)
    with acting_as(actor("analyst")):
        assert send_manual(ledger, 1, people, "Hi").state == "queued"
    assert [c.state for c in campaigns.list_campaigns(ledger, 1)] == ["queued", "queued"]  # the refusal: no draft


def _test_send(ledger: Ledger) -> campaigns.Campaign:
    from orchestration.sender import send_test

    return send_test(ledger, None, 1, "+14155550100", "Test")


def test_an_admin_acts_only_on_its_own_tenant(ledger):
    with acting_as(actor("admin", 1)):
        SuppressionList(ledger, 1).add("+14155550100")
        with pytest.raises(UserError, match="may not do suppression.add in tenant 2"):
            SuppressionList(ledger, 2).add("+14155550100")
        with pytest.raises(UserError, match="may not do settings.change in tenant 2"):
            update_settings(ledger, 2, max_attempts=2)
    assert SuppressionList(ledger, 2).numbers() == [] and SuppressionList(ledger, 1).numbers() == ["+14155550100"]


def test_an_analyst_cannot_change_credentials_settings_or_remove_a_suppression(home, ledger):
    SuppressionList(ledger, 1).add("+14155550100")
    credentials = TwilioCredentials("AC" + "1" * 32, "t" * 32, "+15550100001")
    with acting_as(actor("analyst")):
        for refused in (lambda: save_twilio(ledger, 1, credentials, TokenCipher.for_home(home)),
                        lambda: update_settings(ledger, 1, max_attempts=2),
                        lambda: SuppressionList(ledger, 1).remove("+14155550100"),
                        lambda: users.add_user(ledger, "bob@example.com", "admin", 1, PASSWORD)):
            with pytest.raises(UserError, match="may not"):
                refused()
    assert rows(ledger, "tenant_credentials") == [] and len(rows(ledger, "users")) == 0
    assert SuppressionList(ledger, 1).numbers() == ["+14155550100"]


def test_only_an_operator_manages_operator_accounts(ledger):
    with acting_as(actor("admin")), pytest.raises(UserError, match="may not manage operator accounts"):
        users.add_user(ledger, "root@example.com", "operator", None, PASSWORD)
    with acting_as(actor("operator", None)):
        assert users.add_user(ledger, "root@example.com", "operator", None, PASSWORD).role == "operator"


def test_a_user_row_cannot_be_an_operator_with_a_tenant_even_written_directly(ledger):
    with pytest.raises(sqlite3.IntegrityError), ledger.write() as con:
        con.execute("INSERT INTO users (email, role, tenant_id, password_hash) VALUES ('a@b.co', 'operator', 1, 'x')")


def test_the_demo_signs_in_an_operator_and_each_tenants_admin_with_new_passwords_each_start(home, ledger):
    from orchestration.cli.services import _demo_sign_ins

    first = _demo_sign_ins(home)
    again = _demo_sign_ins(home)
    assert [(u.email, u.role, u.tenant_id) for u in users.list_users(ledger)] == [
        ("operator@demo.example", "operator", None), ("admin1@demo.example", "admin", 1),
        ("admin2@demo.example", "admin", 2)]
    (email, _, old), (_, _, new) = first[1], again[1]
    with pytest.raises(UserError):
        sessions.sign_in(ledger, email, old)
    assert sessions.sign_in(ledger, email, new).user.tenant_id == 1


def test_an_analyst_refused_a_launch_is_refused_before_the_audience_is_frozen(home, ledger):
    from orchestration.audiences import AudienceQuery
    from tests.sending import small_warehouse

    warehouse = small_warehouse(home, count=3)
    draft = campaigns.create_campaign(ledger, 1, "Spring", "Hi", AudienceQuery(1, "all_customers"))
    with acting_as(actor("analyst")), pytest.raises(UserError, match="may not do campaign.launch"):
        campaigns.launch(ledger, warehouse, 1, draft.campaign_id)
    assert rows(ledger, "recipients") == [] and campaigns.get_campaign(ledger, 1, draft.campaign_id).state == "draft"
