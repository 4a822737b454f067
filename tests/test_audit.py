"""The audit log: every audited action leaves one row naming who, which tenant and what, whatever face acted;
a refused action leaves none; rows can be neither changed nor deleted; the CSV export holds one tenant's rows."""

from __future__ import annotations

import getpass
import sqlite3

import pytest
from click.testing import CliRunner

from orchestration.audiences import AudienceQuery
from orchestration.auth import audit, sessions, users
from orchestration.auth.actor import Actor, acting_as
from orchestration.cli import main
from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.ledger.suppression import SuppressionList
from orchestration.sender import cancel, create_campaign, launch, pause, resume, send_manual, send_test
from orchestration.tenants import TokenCipher, TwilioCredentials, save_twilio, update_settings
from tests.sending import small_warehouse

PASSWORD = "a long enough secret 1"
ADMIN = Actor("admin@example.com", role="admin", tenant_id=1)
TOKEN = "f" * 32


def log(ledger: Ledger, tenant: int | None = 1) -> list[tuple]:
    frame = audit.entries(ledger, tenant)
    return list(frame[["actor", "action", "object"]].itertuples(index=False, name=None))[::-1]


def test_every_audited_action_leaves_one_row_with_its_actor_tenant_and_object(home):
    ledger, warehouse = Ledger(home.ledger), small_warehouse(home, count=3)
    with acting_as(ADMIN):
        suppression = SuppressionList(ledger, 1)
        suppression.add("+14155550100", reason="asked")
        suppression.remove("+14155550100")
        suppression.import_csv(b"phone\n+14155550101\n+14155550102\n")
        update_settings(ledger, 1, max_attempts=2)
        save_twilio(ledger, 1, TwilioCredentials("AC" + "1" * 32, TOKEN, "+15550100001"), TokenCipher.for_home(home))
        test = send_test(ledger, None, 1, "+14155550103", "Test")
        manual = send_manual(ledger, 1, [("+14155550104", "")], "Hi")
        draft = create_campaign(ledger, 1, "Spring", "Hi", AudienceQuery(1, "all_customers"))
        launch(ledger, warehouse, 1, draft.campaign_id)
        pause(ledger, 1, draft.campaign_id)
        resume(ledger, 1, draft.campaign_id)
        cancel(ledger, 1, draft.campaign_id)
        users.add_user(ledger, "ann@example.com", "analyst", 1, PASSWORD)
        users.set_disabled(ledger, "ann@example.com")
    c = draft.campaign_id
    assert log(ledger) == [
        (ADMIN.name, "suppression.add", "+14155550100"), (ADMIN.name, "suppression.remove", "+14155550100"),
        (ADMIN.name, "suppression.import", "2 numbers added"), (ADMIN.name, "settings.change", "tenant settings"),
        (ADMIN.name, "credentials.change", "AC" + "1" * 32), (ADMIN.name, "send.test", f"campaign {test.campaign_id}"),
        (ADMIN.name, "send.manual", f"campaign {manual.campaign_id}"), (ADMIN.name, "campaign.launch", f"campaign {c}"),
        (ADMIN.name, "campaign.pause", f"campaign {c}"), (ADMIN.name, "campaign.resume", f"campaign {c}"),
        (ADMIN.name, "campaign.cancel", f"campaign {c}"), (ADMIN.name, "user.add", "ann@example.com"),
        (ADMIN.name, "user.disable", "ann@example.com"),
    ]  # fmt: skip
    assert TOKEN not in audit.to_csv(audit.entries(ledger, 1))


def test_sign_ins_and_failed_sign_ins_are_recorded_without_the_password(home):
    ledger = Ledger(home.ledger)
    users.add_user(ledger, "ann@example.com", "analyst", 1, PASSWORD)
    for email, password in (("ann@example.com", "not the password"), (PASSWORD, PASSWORD),  # typed in the wrong box
                            ("ann@example.com", PASSWORD)):
        try:
            sessions.sign_in(ledger, email, password)
        except UserError:
            pass
    everything = audit.entries(ledger, None)
    assert list(everything["action"])[::-1] == ["user.add", "user.sign_in_failed", "user.sign_in_failed",
                                                "user.sign_in"]
    assert PASSWORD not in audit.to_csv(everything) and "not the password" not in audit.to_csv(everything)
    assert list(everything["object"])[1] == "(not an email)"


def test_a_refused_action_leaves_no_row_and_no_change(home):
    ledger = Ledger(home.ledger)
    with acting_as(ADMIN), pytest.raises(UserError):
        SuppressionList(ledger, 2).add("+14155550100")
    assert audit.entries(ledger, None).empty and SuppressionList(ledger, 2).numbers() == []


def test_the_cli_acts_as_the_os_user(home):
    result = CliRunner().invoke(main, ["--home", str(home.root), "suppression", "add", "+14155550100", "--tenant", "1"])
    assert result.exit_code == 0, result.output
    assert log(Ledger(home.ledger)) == [(f"cli:{getpass.getuser()}", "suppression.add", "+14155550100")]


def test_a_process_on_the_machine_acts_as_system(home):
    ledger = Ledger(home.ledger)
    SuppressionList(ledger, 1).add("+14155550100", source="provider_opt_out")
    assert log(ledger) == [("system", "suppression.add", "+14155550100")]


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"])
def test_audit_rows_can_be_neither_changed_nor_deleted(home, statement):
    ledger = Ledger(home.ledger)
    SuppressionList(ledger, 1).add("+14155550100")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"), ledger.write() as con:
        con.execute(statement)
    assert log(ledger) == [("system", "suppression.add", "+14155550100")]


def test_audit_export_writes_one_tenants_rows_with_formulas_escaped(home, tmp_path):
    ledger = Ledger(home.ledger)
    SuppressionList(ledger, 1).add("+14155550100")
    SuppressionList(ledger, 2).add("+14155550199", reason="tenant two")
    audit.record(ledger, 1, "settings.change", '=HYPERLINK("http://evil.example")')  # text a sheet would run
    out = tmp_path / "audit.csv"
    result = CliRunner().invoke(main, ["--home", str(home.root), "audit", "export", "--tenant", "1", "--out", str(out)])
    assert result.exit_code == 0 and "Wrote 2 audit rows of tenant 1" in result.output, result.output
    text = out.read_text()
    assert "+14155550199" not in text and "tenant two" not in text
    assert ",+14155550100," in text  # a plain number (an E.164 phone) as it is: joins and re-imports keep working
    assert ""","'=HYPERLINK(""http://evil.example"")",""" in text  # a formula is escaped


def test_audit_export_to_a_missing_folder_is_one_error_and_no_file(home, tmp_path):
    out = tmp_path / "missing" / "audit.csv"
    result = CliRunner().invoke(main, ["--home", str(home.root), "audit", "export", "--tenant", "1", "--out", str(out)])
    assert result.exit_code == 2 and result.output.count("\n") == 1 and not out.parent.exists(), result.output


def test_set_twilio_records_the_credentials_the_sender_rate_and_the_callback_url_but_never_the_token(home):
    result = CliRunner().invoke(main, [
        "--home", str(home.root), "tenant", "set-twilio", "--tenant", "1", "--account-sid", "AC" + "1" * 32,
        "--auth-token", TOKEN, "--from", "+15550100001", "--sender-rate", "5",
        "--status-callback-url", "https://sms.example.com/twilio/status"])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = audit.entries(Ledger(home.ledger), 1)
    assert list(rows["action"])[::-1] == ["credentials.change", "settings.change", "settings.change"]
    assert "throughput_per_s=5.0" in set(rows["detail"]) and TOKEN not in audit.to_csv(rows)
