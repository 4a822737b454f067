"""Bad input corpus (200+ cases): phones, templates, CSV imports, CLI arguments and console inputs. Each case ends
in one clear error or a correct result; never a crash, never a partial write."""

from __future__ import annotations

import random
import re
import shutil
from collections import Counter
from collections.abc import Callable

import phonenumbers
import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from console import ui
from orchestration.cli import main
from orchestration.config import Home
from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.ledger.suppression import SuppressionList
from orchestration.messages import templates
from orchestration.messages.shortcodes import SHORTCODES, render
from orchestration.sender import read_people_csv, send_manual
from orchestration.sender.campaigns import list_campaigns
from orchestration.warehouse.phones import normalize_phone as warehouse_phone
from tests.reliability.harness import file_digest, ledger_digest, write_figures
from tests.sending import manual, numbers, small_warehouse, with_twilio
from tests.signed_in import sign_in_as
from tests.test_console import APP, build_demo_home

RESULTS: list[dict] = []  # one entry per case: category, case, outcome ("error" | "ok"), message


@pytest.fixture(scope="module", autouse=True)
def corpus_figures():
    yield
    by_category: dict[str, Counter] = {}
    for result in RESULTS:
        by_category.setdefault(result["category"], Counter())[result["outcome"]] += 1
    write_figures("bad_input", {
        "cases": len(RESULTS),
        "by_category": {k: dict(v) for k, v in sorted(by_category.items())},
        "crashes": sum(r["outcome"] == "crash" for r in RESULTS),
        "partial_writes": sum(r.get("partial_write", False) for r in RESULTS),
        "error_messages_sample": sorted({r["message"] for r in RESULTS if r["outcome"] == "error"})[:40],
    })  # fmt: skip


@pytest.fixture(scope="module")
def corpus_home(tmp_path_factory) -> Home:
    """Two tenants with a small warehouse, Twilio credentials and one queued campaign each."""
    home = Home.resolve(tmp_path_factory.mktemp("corpus") / "home").ensure()
    small_warehouse(home, count=12, tenants=(1, 2))
    for tenant in (1, 2):
        manual(with_twilio(home, tenant), numbers(3, start=200 + tenant * 10), tenant_id=tenant)
    return home


@pytest.fixture
def corpus(corpus_home, monkeypatch) -> Home:
    monkeypatch.setenv("BKNTC_SMS_HOME", str(corpus_home.root))
    return corpus_home


def _state(home: Home) -> tuple:
    return ledger_digest(home.ledger), file_digest(home.warehouse)


def outcome_of(category: str, case: str, home: Home, action: Callable[[], object]) -> tuple[str, object]:
    """Runs one case: ("error", message) for a UserError, after checking nothing was written; else ("ok", value).
    Anything else than a UserError is recorded as a crash and re-raised (bugs stay loud)."""
    before = _state(home)
    try:
        value = action()
    except UserError as exc:
        message = str(exc)
        partial = _state(home) != before
        RESULTS.append({"category": category, "case": case, "outcome": "error", "message": message[:160],
                        "partial_write": partial})  # fmt: skip
        assert not partial, f"{case!r}: refused with {message!r} but the ledger or warehouse changed"
        assert message and "\n" not in message and "Traceback" not in message
        return "error", message
    except Exception:
        RESULTS.append({"category": category, "case": case, "outcome": "crash", "message": ""})
        raise
    RESULTS.append({"category": category, "case": case, "outcome": "ok", "message": ""})
    return "ok", value


# --- phones ------------------------------------------------------------------------------------------------

SAME_NUMBER = [  # every one of these is +1 415 555 2671, written the ways people write it
    "4155552671", "(415) 555-2671", "415.555.2671", "415 555 2671", "415-555-2671", "+1 415 555 2671",
    "+1-415-555-2671", "1-415-555-2671", "1 (415) 555-2671", "+1 (415) 555-2671", "+1.415.555.2671", "14155552671",
    "+14155552671", " 4155552671 ", "\t+14155552671\n", "011 1 415 555 2671", "tel:+1-415-555-2671",
    "＋１ ４１５ ５５５ ２６７１", "٤١٥٥٥٥٢٦٧١", "'+14155552671", "+1 415 555 2671 ext. 12", "(415)555-2671",
    "415/555/2671", "+1 415 5552671", "+ 1 415 555 2671",
]  # fmt: skip
INTERNATIONAL = {
    "+44 20 7946 0958": "+442079460958", "+49 30 901820": "+4930901820", "+33 1 42 68 53 00": "+33142685300",
    "+81 3-1234-5678": "+81312345678", "+91 98765 43210": "+919876543210", "+55 11 91234-5678": "+5511912345678",
    "+61 2 9876 5432": "+61298765432", "+972 2-123-4567": "+97221234567", "\u200f+972 2 123 4567": "+97221234567",
    "+20 10 1234 5678": "+201012345678", "+86 138 0013 8000": "+8613800138000", "+7 495 123-45-67": "+74951234567",
}  # fmt: skip
NOT_A_NUMBER = [
    "", " ", "abc", "+", "++", "555", "12", "+0 415", "1" * 30, "9" * 5000, "+1 415 555 26711", "+1 415 555 267",
    "1e10", "0", "-1", "NULL", "None", "undefined", "N/A", "📞", "😀😀😀", "<script>alert(1)</script>", "%s%s%s",
    "{customer_phone}", "+1 415 555 2671; DROP TABLE suppression;--", "4155552671,4155552672",
    "+14155552671+14155552672", "00 1 415 555 2671", "\x00", "مرحبا", "+999 123 456 789", "+1 000 000 0000",
]  # fmt: skip
EITHER = [  # letters, emoji and invisible characters around digits: a number or one clear error, never a crash
    "415-CALL-NOW", "+1 800 FLOWERS", "📞4155552671", "4155552671📞", "\u202e14155552671", "\u200b4155552671",
    "4155552671\x00", "-4155552671", "+1\t415 555 2671", "+1\n415\n555\n2671", "=+14155552671", "@4155552671",
    "4155552671 (mobile)", "phone: 4155552671",
]  # fmt: skip
PHONES = [(raw, "+14155552671") for raw in SAME_NUMBER] + list(INTERNATIONAL.items()) + \
    [(raw, None) for raw in NOT_A_NUMBER] + [(raw, "either") for raw in EITHER]  # fmt: skip


@pytest.mark.parametrize(("raw", "expected"), PHONES, ids=[f"phone{i}" for i in range(len(PHONES))])
def test_a_phone_is_one_number_or_one_clear_error_the_same_on_every_path(corpus, raw, expected):
    suppressed = SuppressionList(Ledger(corpus.ledger), 1)
    outcome, value = outcome_of("phones", raw, corpus, lambda: suppressed.normalize(raw))
    in_warehouse, _ = warehouse_phone(raw, "US")
    if expected is None:
        assert outcome == "error"
    elif expected != "either":
        assert value == expected
    if outcome == "ok":
        assert re.fullmatch(r"\+[1-9]\d{6,14}", value) and phonenumbers.is_valid_number(phonenumbers.parse(value))
    assert in_warehouse == (value if outcome == "ok" else None)  # the audience reads the number the same way
    added, _ = outcome_of("phones", raw, corpus, lambda: suppressed.add(raw, reason="corpus"))
    assert added == outcome
    if outcome == "ok":
        assert value in suppressed.numbers()
        suppressed.remove(value)


# --- templates ---------------------------------------------------------------------------------------------

VALID_TEMPLATES = [
    "Hi {customer_first_name}!", "See you {appointment_date} at {appointment_start_time}, {customer_name}.",
    "x" * 1600, "é" * 1600, "😀" * 800, "مرحبا {customer_first_name}، موعدك {appointment_date}",
    "שלום {customer_name}, נתראה ב-{appointment_date}", "Hi 👋 {customer_first_name} — 100% off today!",
    "👨‍👩‍👧‍👦 family day at {location_name}", "Line one\nLine two\r\nLine three\ttab", "Price: $5 {service_price}",
    "'; DROP TABLE templates; --", "<b>{company_name}</b>", "%s %d {company_phone}", "\u202eevil {customer_name}",
    "Zero\u200bwidth {staff_name}", " leading and trailing spaces ", "{customer_name}{customer_phone}",
    *(f"Hello {{{code}}}" for code in SHORTCODES),
]  # fmt: skip
INVALID_TEMPLATES = [
    "", "   ", "\n\t", "Hi {customer_nickname}!", "Hi {customer_name", "Hi customer_name}", "{}", "{ }",
    "{{customer_name}}", "Hi { customer_name }", "{customer name}", "{CUSTOMER_NAME}", "Hi {unknown} {other}",
    "x" * 1601, "x" * 2000, "😀" * 2000, "مرحبا {اسم}", "}{", "{customer_name}}", "{{", "}}", "{{}}",
    "Hi {customer_name} {", "{customer_first_name{customer_last_name}}",
]  # fmt: skip
TEMPLATE_NAMES = ["", "   ", "n" * 500, "📝 Emoji name", "'; DROP TABLE templates;--", "名前", "a/b\\c"]
TEMPLATES = [(body, True) for body in VALID_TEMPLATES] + [(body, False) for body in INVALID_TEMPLATES]


@pytest.mark.parametrize(("body", "valid"), TEMPLATES, ids=[f"template{i}" for i in range(len(TEMPLATES))])
def test_a_template_is_saved_as_written_or_refused_with_one_message(corpus, body, valid):
    ledger = Ledger(corpus.ledger)
    outcome, saved = outcome_of("templates", body[:60], corpus, lambda: templates.save(ledger, 1, "corpus", body))
    assert outcome == ("ok" if valid else "error")
    if valid:
        assert templates.get(ledger, 1, "corpus").body == body == saved.body
        rendered = render(body, {"first_name": "Ann", "last_name": "Lee"}, {"name": "Salon"})
        assert not any(f"{{{code}}}" in rendered for code in SHORTCODES)


@pytest.mark.parametrize("name", TEMPLATE_NAMES, ids=[f"template_name{i}" for i in range(len(TEMPLATE_NAMES))])
def test_a_template_name_is_kept_as_written_or_refused(corpus, name):
    ledger = Ledger(corpus.ledger)
    outcome, saved = outcome_of("templates", f"name {name[:40]}", corpus,
                                lambda: templates.save(ledger, 1, name, "Hello {customer_name}"))  # fmt: skip
    if outcome == "ok":
        assert templates.get(ledger, 1, name).name == saved.name == name.strip()
    else:
        assert not name.strip() or len(name) > 100


# --- CSV imports -------------------------------------------------------------------------------------------

GOOD = ["+14155550101", "+14155550102", "+14155550103"]
CSV_FILES: dict[str, tuple[bytes, int | None]] = {  # file -> (bytes, numbers a suppression import adds; None: refused)
    "plain": (b"phone\n+14155550101\n+14155550102\n+14155550103\n", 3),
    "bom": ("\ufeffphone\n+14155550101\n+14155550102\n".encode(), 2),
    "semicolons": (b"name;phone;reason\nAnn;+14155550101;moved\nBo;(415) 555-0102;asked\n", 2),
    "tabs": (b"phone\treason\n+14155550101\tx\n", 1),
    "quoted": (b'"phone","reason"\n"+1 (415) 555-0101","said ""stop"", twice"\n', 1),
    "quoted_newline": (b'phone,reason\n+14155550101,"two\nlines"\n', 1),
    "formulas": (b'phone,reason\n"=HYPERLINK(""http://x"")",a\n+14155550101,"=cmd|\' /C calc\'!A0"\n@SUM(1),b\n', 1),
    "formula_escaped_numbers": (b"phone\n'+14155550101\n'+14155550102\n", 2),
    "no_header": (b"+14155550101\n+14155550102\n", 2),
    "crlf": (b"phone\r\n+14155550101\r\n+14155550102\r\n", 2),
    "cr_only": (b"phone\r+14155550101\r+14155550102\r", 2),
    "duplicates": (b"phone\n+14155550101\n(415) 555-0101\n4155550101\n", 1),
    "blank_lines": (b"phone\n\n\n+14155550101\n\n", 1),
    "invalid_rows": (b"phone\nnot a number\n12\n+14155550101\n", 1),
    "extra_columns": (b"id,phone,a,b,c\n1,+14155550101,x,y,z\n2,+14155550102\n", 2),
    "latin1": ("phone,reason\n+14155550101,café fermé\n".encode("latin-1"), 1),
    "emoji_reasons": ("phone,reason\n+14155550101,🙅 no more\n".encode(), 1),
    "rtl_reasons": ("phone,reason\n+14155550101,لا مزيد\n".encode(), 1),
    "wrong_columns": (b"email,name\nann@example.com,Ann\n", None),
    "empty": (b"", None),
    "whitespace_only": (b"   \n\n\t\n", None),
    "header_only": (b"phone\n", None),
    "binary": (bytes(random.Random(3).randrange(256) for _ in range(4096)), None),
    "nul_bytes": (b"phone\n+1415\x00555\x000101\n", 0),
    "utf16": ("phone\n+14155550101\n".encode("utf-16"), None),
    "one_giant_cell": (b"phone\n" + b"4" * 1_000_000 + b"\n", None),
    "only_separators": (b",,,\n;;\n,\n", None),
}  # fmt: skip
CSV_CASES = list(CSV_FILES)


@pytest.mark.parametrize("name", CSV_CASES)
def test_a_suppression_csv_adds_exactly_its_valid_numbers_or_is_refused_whole(corpus, name):
    data, expected = CSV_FILES[name]
    suppressed = SuppressionList(Ledger(corpus.ledger), 2)
    before = set(suppressed.numbers())
    outcome, report = outcome_of("csv", f"suppression {name}", corpus, lambda: suppressed.import_csv(data))
    if expected is None:
        assert outcome == "error"
        return
    assert outcome == "ok" and report.added == expected
    assert len(set(suppressed.numbers()) - before) == expected
    for number in set(suppressed.numbers()) - before:
        suppressed.remove(number)


@pytest.mark.parametrize("name", CSV_CASES)
def test_a_manual_send_csv_queues_its_numbers_or_is_refused_whole(corpus, name, tmp_path):
    data, expected = CSV_FILES[name]
    path = tmp_path / f"{name}.csv"
    path.write_bytes(data)
    ledger = Ledger(corpus.ledger)
    before = len(list_campaigns(ledger, 2))

    def queue() -> int:
        return send_manual(ledger, 2, read_people_csv(path), "Hi {customer_name}").recipient_count

    outcome, count = outcome_of("csv", f"manual {name}", corpus, queue)
    assert len(list_campaigns(ledger, 2)) == before + (outcome == "ok")
    if outcome == "ok":
        assert count >= 1


@pytest.fixture
def corpus_copy(corpus_home, tmp_path, monkeypatch) -> Home:
    """A copy of the corpus home, for a case whose writes would slow every later digest of the shared one (100,000
    suppression rows added and removed leave 200,000 rows in its change log)."""
    shutil.copytree(corpus_home.root, tmp_path / "home")
    monkeypatch.setenv("BKNTC_SMS_HOME", str(tmp_path / "home"))
    return Home.resolve(tmp_path / "home")


@pytest.mark.slow
def test_a_50_mb_csv_is_imported_whole_or_refused_whole(corpus_copy, tmp_path):
    path = tmp_path / "big.csv"
    reason = "x" * 490
    with open(path, "w", encoding="utf-8") as out:
        out.write("phone,reason\n")
        for area in (212, 213, 305, 312, 404, 415, 503, 617, 702, 718):
            out.writelines(f"+1{area}555{n:04d},{reason}\n" for n in range(10_000))
    assert path.stat().st_size >= 50_000_000
    suppressed = SuppressionList(Ledger(corpus_copy.ledger), 2)
    ledger = Ledger(corpus_copy.ledger)

    outcome, report = outcome_of("csv", "suppression 50 MB", corpus_copy, lambda: suppressed.import_csv(path))
    refused, message = outcome_of("csv", "manual 50 MB", corpus_copy,
                                  lambda: send_manual(ledger, 2, read_people_csv(path), "Hi"))  # fmt: skip

    assert outcome == "ok" and report.added == 100_000 and suppressed.count() == 100_000
    assert refused == "error" and "at most" in message


# --- CLI arguments -----------------------------------------------------------------------------------------

CLI_ERRORS = [
    ["preview", "--tenant", "1", "--segment", "nobody"],
    ["preview", "--tenant", "1", "--segment", "recent_bookers", "--days", "-1"],
    ["preview", "--tenant", "1", "--segment", "recent_bookers", "--days", "0"],
    ["preview", "--tenant", "1", "--segment", "recent_bookers", "--days", "abc"],
    ["preview", "--tenant", "1", "--segment", "recent_bookers", "--days", "99999999999999999999"],
    ["preview", "--tenant", "-1", "--segment", "all_customers"],
    ["preview", "--tenant", "abc", "--segment", "all_customers"],
    ["preview", "--tenant", "99999999999999999999", "--segment", "all_customers"],
    ["preview", "--tenant", "1", "--segment", "all_customers", "--as-of", "yesterday-ish"],
    ["preview", "--tenant", "1", "--segment", "all_customers", "--as-of", "2025-13-45"],
    ["preview", "--tenant", "1", "--segment", "upcoming", "--service", "abc"],
    ["preview", "--tenant", "1", "--segment", "repeat", "--min", "-5"],
    ["preview", "--tenant", "1", "--segment", "all_appointments", "--status", "'; DROP TABLE x;--"],
    ["preview", "--tenant", "1", "--segment", "all_customers", "--sample", "-1"],
    ["preview", "--tenant", "1"],
    ["campaign", "create", "--tenant", "1", "--name", "x", "--segment", "all_customers", "--template", "Hi {nope}"],
    ["campaign", "create", "--tenant", "1", "--name", "x", "--segment", "all_customers", "--template", ""],
    ["campaign", "create", "--tenant", "1", "--name", "", "--segment", "all_customers", "--template", "Hi"],
    ["campaign", "create", "--tenant", "1", "--name", "x", "--segment", "all_customers", "--template", "Hi",
     "--max-attempts", "0"],
    ["campaign", "create", "--tenant", "1", "--name", "x", "--segment", "all_customers", "--template", "Hi",
     "--rate", "-1"],
    ["campaign", "create", "--tenant", "1", "--name", "x", "--segment", "all_customers", "--template", "Hi",
     "--retry-base-seconds", "0"],
    ["campaign", "create", "--tenant", "1", "--name", "x", "--segment", "all_customers", "--template", "Hi",
     "--retry-base-seconds", "nan"],
    ["campaign", "create", "--tenant", "1", "--name", "x", "--segment", "all_customers", "--template", "Hi",
     "--rate", "inf"],
    ["campaign", "create", "--tenant", "1", "--name", "x", "--segment", "nobody", "--template", "Hi"],
    ["campaign", "create", "--tenant", "1", "--name", "x", "--segment", "recent_bookers", "--days", "-3",
     "--template", "Hi"],
    ["campaign", "launch", "999", "--tenant", "1"],
    ["campaign", "launch", "2", "--tenant", "1"],
    ["campaign", "launch", "1", "--tenant", "1"],
    ["campaign", "pause", "999", "--tenant", "1"],
    ["campaign", "resume", "1", "--tenant", "1"],
    ["campaign", "cancel", "2", "--tenant", "1"],
    ["campaign", "run", "999", "--tenant", "1"],
    ["campaign", "status", "2", "--tenant", "1"],
    ["campaign", "status", "abc", "--tenant", "1"],
    ["logs", "export", "2", "--tenant", "1", "--out", "/tmp/bkntc-never.csv"],
    ["logs", "export", "1", "--tenant", "1", "--out", "/nonexistent-dir/out.csv"],
    ["send-test", "--tenant", "1", "--to", "not a phone", "--template", "Hi"],
    ["send-test", "--tenant", "1", "--to", "+14155552671", "--template", "Hi {customer_nickname}"],
    ["send-manual", "--tenant", "1", "--template", "Hi"],
    ["send-manual", "--tenant", "1", "--to", "+14155552671", "--csv", "x.csv", "--template", "Hi"],
    ["send-manual", "--tenant", "1", "--csv", "/nonexistent.csv", "--template", "Hi"],
    ["send-manual", "--tenant", "1", "--to", "12", "--to", "abc", "--template", "Hi"],
    ["suppression", "add", "--tenant", "1", "not-a-number"],
    ["suppression", "remove", "--tenant", "1", "📞"],
    ["suppression", "import", "--tenant", "1", "/nonexistent.csv"],
    ["suppression", "list", "--tenant", "1", "--limit", "0"],
    ["template", "save", "--tenant", "1", "bad", "--body", "Hi {customer_name"],
    ["template", "save", "--tenant", "1", "bad"],
    ["template", "render", "--tenant", "1"],
    ["template", "render", "--tenant", "1", "no-such-template"],
    ["tenant", "set-twilio", "--tenant", "1", "--account-sid", "AC-bad", "--auth-token", "x" * 32],
    ["tenant", "set-twilio", "--tenant", "1", "--account-sid", "AC" + "a" * 32, "--auth-token", "x" * 32,
     "--from", "not-a-number"],
    ["tenant", "set-twilio", "--tenant", "1", "--account-sid", "AC" + "a" * 32, "--auth-token", "x" * 32,
     "--from", "+15005550006", "--api-base-url", "ftp://example.com"],
    ["tenant", "settings", "--tenant", "1", "--region", "XX"],
    ["tenant", "settings", "--tenant", "1", "--rate", "0"],
    ["tenant", "settings", "--tenant", "1", "--max-attempts", "0"],
    ["tenant", "settings", "--tenant", "1", "--failure-streak", "-1"],
    ["tenant", "settings", "--tenant", "1", "--retry-base-seconds", "nan"],
    ["tenant", "show", "--tenant", "-3"],
    ["sync", "--source", "/nonexistent-folder"],
    ["sync", "--source", "mysql://nobody@127.0.0.1:1/db"],
    ["sync", "--source", "/tmp", "--as-of", "not-a-date"],
    ["check-source", "/nonexistent-folder"],
    ["demo-data"],
    ["simulator", "--error-rate", "500=2"],
    ["simulator", "--account", "nonsense"],
    ["no-such-command"],
    ["campaign", "create", "--tenant", "1"],
]  # fmt: skip


@pytest.mark.parametrize("args", CLI_ERRORS, ids=[f"cli{i}" for i in range(len(CLI_ERRORS))])
def test_a_bad_cli_call_exits_non_zero_with_one_error_line_and_writes_nothing(corpus, args):
    before = _state(corpus)
    result = CliRunner().invoke(main, args)
    output = result.output
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    error_lines = [line for line in output.splitlines() if line.startswith("Error:")]
    RESULTS.append({"category": "cli", "case": " ".join(args)[:80], "outcome": "crash" if crashed else "error",
                    "message": error_lines[0] if error_lines else output[-160:],
                    "partial_write": _state(corpus) != before})  # fmt: skip
    assert not crashed, f"{args}: {result.exception!r}"
    assert result.exit_code in (1, 2) and "Traceback" not in output, output
    assert len(error_lines) == 1, output
    assert _state(corpus) == before


def test_the_installed_command_prints_one_error_line_without_a_traceback(corpus):
    import subprocess
    import sys

    before = _state(corpus)
    done = subprocess.run([sys.executable, "-m", "orchestration.cli.entry", "campaign", "launch", "999", "--tenant",
                           "1"], capture_output=True, text=True, timeout=60)  # fmt: skip
    RESULTS.append({"category": "cli", "case": "subprocess campaign launch 999", "outcome": "error",
                    "message": done.stderr.strip()})  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().count("\n") == 0 and done.stderr.startswith("Error: ")
    assert _state(corpus) == before


# --- console inputs ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def console_home(tmp_path_factory) -> Home:
    return build_demo_home(tmp_path_factory.mktemp("corpus-console") / "home", customers=200)


@pytest.fixture
def console(console_home, tmp_path, monkeypatch) -> Home:
    shutil.copytree(console_home.root, tmp_path / "home")
    monkeypatch.setenv("BKNTC_SMS_HOME", str(tmp_path / "home"))
    return Home.resolve(tmp_path / "home")


def _page(page: str, **state) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.session_state[ui.SESSION_KEY] = sign_in_as(Home.resolve())  # an operator, so the tenant below is honoured
    app.session_state["tenant_id"] = 1
    for key, value in state.items():
        app.session_state[key] = value
    app.run()
    if page != "audience":
        app.switch_page(f"views/{page}.py").run()
    return app


def _suppress(raw: str) -> Callable[[AppTest], None]:
    def act(app: AppTest) -> None:
        app.text_input(key="sup_add_phone").set_value(raw)
        app.button(key="sup_add").click().run()
    return act


def _import(data: bytes) -> Callable[[AppTest], None]:
    def act(app: AppTest) -> None:
        app.file_uploader(key="sup_import_file").upload("list.csv", data, "text/csv").run()
        app.button(key="sup_import").click().run()
    return act


def _compose(body: str) -> Callable[[AppTest], None]:
    def act(app: AppTest) -> None:
        app.text_area(key="cmp_body").set_value(body).run()
    return act


def _test_send(to: str) -> Callable[[AppTest], None]:
    def act(app: AppTest) -> None:
        app.text_input(key="snd_test_to").set_value(to)
        app.button(key="snd_test_send").click().run()
    return act


def _credentials(sid: str) -> Callable[[AppTest], None]:
    def act(app: AppTest) -> None:
        app.text_input[0].set_value(sid)
        app.button(key="set_save_credentials").click().run()
    return act


CONSOLE_CASES = [  # (page, session state, action, must show an error)
    ("suppression", {}, _suppress("12"), True),
    ("suppression", {}, _suppress(""), True),
    ("suppression", {}, _suppress("📞📞📞"), True),
    ("suppression", {}, _suppress("<script>alert(1)</script>"), True),
    ("suppression", {}, _suppress("9" * 3000), True),
    ("suppression", {}, _suppress("+1 (415) 555-2671"), False),
    ("suppression", {}, _import(b""), True),
    ("suppression", {}, _import(b"email\nann@example.com\n"), True),
    ("suppression", {}, _import(bytes(range(256)) * 8), True),
    ("suppression", {}, _import("\ufeffphone;reason\n+14155550101;x\n".encode()), False),
    ("compose", {}, _compose("Hi {customer_nickname}"), True),
    ("compose", {}, _compose("Hi {customer_name"), True),
    ("compose", {}, _compose("😀" * 2000), True),
    ("compose", {}, _compose("مرحبا {customer_first_name} 👋"), False),
    ("send", {ui.MESSAGE: "Hi {customer_first_name}"}, _test_send("not a phone"), True),
    ("send", {ui.MESSAGE: "Hi {customer_first_name}"}, _test_send("1" * 40), True),
    ("send", {ui.MESSAGE: "Hi {customer_first_name}"}, _test_send("📞"), True),
    ("settings", {}, _credentials("AC-not-a-sid"), True),
    ("settings", {}, _credentials(""), True),
    ("settings", {}, _credentials("'; DROP TABLE tenants;--"), True),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("case", range(len(CONSOLE_CASES)), ids=[f"console{i}" for i in range(len(CONSOLE_CASES))])
def test_a_bad_console_input_shows_one_error_and_writes_nothing(console, case):
    page, state, act, must_fail = CONSOLE_CASES[case]
    app = _page(page, **state)
    before = _state(console)
    act(app)
    errors = [e.value for e in app.error]
    RESULTS.append({"category": "console", "case": f"{page} #{case}", "outcome":
                    "crash" if app.exception else ("error" if errors else "ok"),
                    "message": errors[0][:160] if errors else "", "partial_write": bool(errors) and
                    _state(console) != before})  # fmt: skip
    assert not app.exception, [e.value for e in app.exception]
    assert bool(errors) == must_fail, errors
    if must_fail:
        assert len(errors) == 1 and "Traceback" not in errors[0]
        assert _state(console) == before
