"""Twilio credentials: validated, encrypted at rest with a key outside the ledger, never shown, and checked
against the Twilio simulator over real HTTP through the official `twilio` library."""

from __future__ import annotations

import multiprocessing
import pickle
import stat
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from orchestration.cli import main
from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.simulator.server import Simulator
from orchestration.tenants import TokenCipher, TwilioCredentials, load_twilio, save_twilio, twilio_summary
from orchestration.tenants.secret_key import SECRET_KEY_ENV, read_or_create_key_file
from orchestration.tenants.twilio_client import BaseUrlHttpClient, check_credentials
from tests.fixtures.servers import free_port

PORTS = range(34000, 34050)
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
TOKEN = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
OTHER_TOKEN = "00112233445566778899aabbccddeeff"
FROM = "+15005550006"




@pytest.fixture
def simulator() -> Iterator[Simulator]:
    with Simulator(port=free_port(PORTS), accounts={ACCOUNT_SID: TOKEN}) as running:
        yield running


@pytest.fixture(autouse=True)
def no_key_in_environment(monkeypatch):
    monkeypatch.delenv(SECRET_KEY_ENV, raising=False)


@pytest.fixture
def ledger(home) -> Ledger:
    return Ledger(home.ledger)


def credentials(**changes) -> TwilioCredentials:
    values = {"account_sid": ACCOUNT_SID, "auth_token": TOKEN, "from_number": FROM} | changes
    return TwilioCredentials(**values)


def cli(home, *args: str):
    return CliRunner().invoke(main, ["--home", str(home.root), *args], catch_exceptions=False)


# --- at rest -------------------------------------------------------------------------------------------


def test_saved_credentials_load_back_with_the_token(home, ledger):
    save_twilio(ledger, 3, credentials(), TokenCipher.for_home(home))
    assert load_twilio(ledger, 3, TokenCipher.for_home(home)).auth_token == TOKEN


def test_the_token_never_appears_in_clear_in_the_ledger_files(home, ledger):
    save_twilio(ledger, 3, credentials(), TokenCipher.for_home(home))
    stored = b"".join(path.read_bytes() for path in home.root.glob("ledger.sqlite*"))
    assert ACCOUNT_SID.encode() in stored and TOKEN.encode() not in stored


def test_the_key_file_is_created_readable_by_its_owner_only(home):
    TokenCipher.for_home(home)
    assert stat.S_IMODE(home.key_file.stat().st_mode) == 0o600


def test_processes_creating_the_key_file_at_once_all_get_the_same_key(tmp_path):
    path = tmp_path / "secret.key"
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        found = set(pool.map(read_or_create_key_file, [path] * 8, chunksize=1))
    assert found == {path.read_bytes()} and list(tmp_path.iterdir()) == [path]


def test_the_key_from_the_environment_is_used_instead_of_the_key_file(home, ledger, monkeypatch):
    monkeypatch.setenv(SECRET_KEY_ENV, Fernet.generate_key().decode())
    save_twilio(ledger, 3, credentials(), TokenCipher.for_home(home))
    assert load_twilio(ledger, 3, TokenCipher.for_home(home)).auth_token == TOKEN
    assert not home.key_file.exists()


def test_a_malformed_key_in_the_environment_is_a_clear_error_that_does_not_echo_it(home, monkeypatch):
    monkeypatch.setenv(SECRET_KEY_ENV, "not-a-key")
    with pytest.raises(UserError, match="not a valid Fernet key") as raised:
        TokenCipher.for_home(home)
    assert "not-a-key" not in str(raised.value)


def test_a_wrong_key_is_a_clear_error_without_the_token(home, ledger, monkeypatch):
    save_twilio(ledger, 3, credentials(), TokenCipher.for_home(home))
    monkeypatch.setenv(SECRET_KEY_ENV, Fernet.generate_key().decode())
    with pytest.raises(UserError, match="Cannot decrypt the stored auth token") as raised:
        load_twilio(ledger, 3, TokenCipher.for_home(home))
    assert TOKEN not in str(raised.value) and raised.value.__cause__ is None


def test_loading_credentials_that_were_never_set_is_a_user_error(home, ledger):
    with pytest.raises(UserError, match="Tenant 4 has no Twilio credentials"):
        load_twilio(ledger, 4, TokenCipher.for_home(home))


def test_the_summary_shows_everything_but_the_token(home, ledger):
    save_twilio(ledger, 3, credentials(api_base_url="http://127.0.0.1:34001"), TokenCipher.for_home(home))
    summary = twilio_summary(ledger, 3)
    assert (summary.account_sid, summary.from_number, summary.api_base_url) == (
        ACCOUNT_SID,
        FROM,
        "http://127.0.0.1:34001",
    )
    assert TOKEN not in repr(summary)


def test_each_tenant_has_its_own_credentials(home, ledger):
    cipher = TokenCipher.for_home(home)
    save_twilio(ledger, 1, credentials(), cipher)
    assert twilio_summary(ledger, 2) is None


# --- in memory ------------------------------------------------------------------------------------------


def test_repr_and_str_never_show_the_token():
    shown = repr(credentials()) + str(credentials())
    assert TOKEN not in shown and "<hidden>" in shown


def test_credentials_refuse_to_be_pickled():
    with pytest.raises(TypeError, match="never serialised"):
        pickle.dumps(credentials())


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"account_sid": "AC123"}, "Account SID must be 'AC' followed by 32 hex digits"),
        ({"account_sid": "XX" + "0" * 32}, "Account SID"),
        ({"from_number": "5551234"}, "From number must be a valid E.164 number"),
        ({"from_number": None}, "Give a sender"),
        ({"messaging_service_sid": "MG12"}, "Messaging Service SID must be 'MG'"),
        ({"api_base_url": "ftp://host"}, "API base URL"),
        ({"api_base_url": "http://user:pw@host"}, "API base URL"),
    ],
)
def test_invalid_credentials_are_refused_with_a_clear_message(changes, words):
    with pytest.raises(UserError, match=words):
        credentials(**changes)


def test_a_token_with_spaces_is_refused_without_echoing_it():
    with pytest.raises(UserError, match="Auth token") as raised:
        credentials(auth_token="secret value")
    assert "secret value" not in str(raised.value)


def test_a_messaging_service_alone_is_enough_to_send():
    assert credentials(from_number=None, messaging_service_sid="MG" + "a" * 32).from_number is None


def test_requests_for_twilio_hosts_go_to_the_configured_base_url():
    client = BaseUrlHttpClient("http://127.0.0.1:34007/prefix")
    assert client.rewrite("https://api.twilio.com/2010-04-01/Accounts/AC1.json?x=1") == (
        "http://127.0.0.1:34007/prefix/2010-04-01/Accounts/AC1.json?x=1"
    )
    assert client.rewrite("http://127.0.0.1:9/next?page=2") == "http://127.0.0.1:9/next?page=2"


# --- against the simulator ---------------------------------------------------------------------------------


def test_working_credentials_are_confirmed(simulator):
    result = check_credentials(credentials(api_base_url=simulator.base_url))
    assert (result.works, result.message) == (True, "Credentials work: account 'Simulated account' is active")


def test_a_wrong_token_is_reported_as_refused_by_twilio(simulator):
    result = check_credentials(credentials(auth_token=OTHER_TOKEN, api_base_url=simulator.base_url))
    assert (result.works, result.message) == (False, "Twilio refused the credentials (20003 Authenticate)")


def test_an_unreachable_api_is_reported_in_words():
    result = check_credentials(credentials(api_base_url=f"http://127.0.0.1:{free_port(PORTS)}"), timeout=2)
    assert not result.works and result.message.startswith("Cannot reach http://127.0.0.1:")


def test_the_environment_default_base_url_is_used_when_the_tenant_has_none(simulator, monkeypatch):
    monkeypatch.setenv("BKNTC_SMS_TWILIO_API_URL", simulator.base_url)
    assert check_credentials(credentials()).works


# --- the CLI ---------------------------------------------------------------------------------------------


def test_cli_set_twilio_then_show_says_set_and_never_prints_the_token(home):
    saved = cli(home, "tenant", "set-twilio", "--tenant", "2", "--account-sid", ACCOUNT_SID, "--auth-token", TOKEN,
                "--from", FROM)  # fmt: skip
    shown = cli(home, "tenant", "show", "--tenant", "2")
    assert saved.exit_code == 0 and shown.exit_code == 0
    assert "auth token:            set" in shown.output
    assert TOKEN not in saved.output + shown.output


def test_cli_show_says_not_set_before_credentials_are_saved(home):
    assert "auth token:            not set" in cli(home, "tenant", "show", "--tenant", "2").output


def test_cli_set_twilio_with_bad_input_prints_one_error_line_without_the_token(home):
    result = cli(home, "tenant", "set-twilio", "--account-sid", "AC1", "--auth-token", TOKEN, "--from", FROM)
    assert result.exit_code == 2
    assert result.output.startswith("Error: Account SID") and TOKEN not in result.output


def test_cli_check_says_the_credentials_work(home, simulator):
    cli(home, "tenant", "set-twilio", "--account-sid", ACCOUNT_SID, "--auth-token", TOKEN, "--from", FROM,
        "--api-base-url", simulator.base_url)  # fmt: skip
    result = cli(home, "tenant", "check")
    assert (result.exit_code, result.output) == (0, "Credentials work: account 'Simulated account' is active\n")


def test_cli_check_says_twilio_refused_the_credentials_and_exits_1(home, simulator):
    cli(home, "tenant", "set-twilio", "--account-sid", ACCOUNT_SID, "--auth-token", OTHER_TOKEN, "--from", FROM,
        "--api-base-url", simulator.base_url)  # fmt: skip
    result = cli(home, "tenant", "check")
    assert (result.exit_code, result.output) == (1, "Twilio refused the credentials (20003 Authenticate)\n")
    assert OTHER_TOKEN not in result.output


def test_cli_check_with_a_changed_key_prints_a_clear_error(home, monkeypatch):
    cli(home, "tenant", "set-twilio", "--account-sid", ACCOUNT_SID, "--auth-token", TOKEN, "--from", FROM)
    monkeypatch.setenv(SECRET_KEY_ENV, Fernet.generate_key().decode())
    result = cli(home, "tenant", "check")
    assert result.exit_code == 2 and result.output.startswith("Error: Cannot decrypt the stored auth token")
    assert TOKEN not in result.output


def test_cli_settings_refuses_an_unknown_region(home):
    result = cli(home, "tenant", "settings", "--region", "ZZ")
    assert result.exit_code == 2 and "Unknown phone region 'ZZ'" in result.output
