"""The campaign lifecycle, test and manual sends, the delivery log export and the campaign CLI."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from orchestration.audiences import AudienceQuery, preview
from orchestration.cli import main
from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.sender import (
    cancel,
    create_campaign,
    delivery_log,
    export_csv,
    get_campaign,
    launch,
    list_campaigns,
    pause,
    read_people_csv,
    resume,
    send_manual,
    status,
)
from tests.sending import FAST, TEMPLATE, manual, numbers, small_warehouse, with_twilio


def segment_campaign(home, tenant_id: int = 1, segment: str = "all_customers", **options) -> tuple[Ledger, int]:
    ledger = Ledger(home.ledger)
    query = AudienceQuery(tenant_id, segment, **options)
    campaign = create_campaign(ledger, tenant_id, "Spring", TEMPLATE, query, FAST)
    return ledger, campaign.campaign_id


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_new_campaign_is_a_draft(home):
    ledger, campaign_id = segment_campaign(home)

    assert get_campaign(ledger, 1, campaign_id).state == "draft"


def test_launch_freezes_exactly_the_previewed_recipients_with_rendered_bodies(home):
    warehouse = small_warehouse(home, count=7)
    ledger, campaign_id = segment_campaign(home)

    campaign = launch(ledger, warehouse, 1, campaign_id)

    previewed = preview(warehouse, ledger, AudienceQuery(1, "all_customers"), sample=100).sample
    log = delivery_log(ledger, 1, campaign_id)
    assert campaign.state == "queued" and campaign.recipient_count == 7
    assert log["customer_id"].tolist() == previewed["customer_id"].tolist()
    assert log["phone_e164"].tolist() == previewed["phone_e164"].tolist()
    assert log["body"][0] == "Hi First100, see you soon!"


def test_launch_of_an_empty_audience_is_refused_and_the_campaign_stays_a_draft(home):
    warehouse = small_warehouse(home, count=3)
    ledger, campaign_id = segment_campaign(home, segment="repeat", min=5)

    with pytest.raises(UserError, match="no recipients"):
        launch(ledger, warehouse, 1, campaign_id)

    assert get_campaign(ledger, 1, campaign_id).state == "draft"
    assert delivery_log(ledger, 1, campaign_id).empty


@pytest.mark.parametrize(
    ("action", "message"),
    [(resume, "Cannot resume campaign .*: it is draft"), (pause, "Cannot pause campaign .*: it is draft")],
)
def test_invalid_transition_is_refused_with_a_clear_message(home, action, message):
    ledger, campaign_id = segment_campaign(home)

    with pytest.raises(UserError, match=message):
        action(ledger, 1, campaign_id)


def test_a_campaign_cannot_be_launched_twice(home):
    warehouse = small_warehouse(home, count=2)
    ledger, campaign_id = segment_campaign(home)
    launch(ledger, warehouse, 1, campaign_id)

    with pytest.raises(UserError, match="only a draft can"):
        launch(ledger, warehouse, 1, campaign_id)


def test_another_tenants_campaign_is_not_found(home):
    ledger, campaign_id = segment_campaign(home, tenant_id=1)

    with pytest.raises(UserError, match=f"Campaign {campaign_id} not found for tenant 2"):
        get_campaign(ledger, 2, campaign_id)


def test_a_tenant_lists_only_its_own_campaigns(home):
    ledger, mine = segment_campaign(home, tenant_id=1)
    segment_campaign(home, tenant_id=2)

    assert [c.campaign_id for c in list_campaigns(ledger, 1)] == [mine]


def test_cancel_skips_every_unsent_recipient(home):
    ledger = Ledger(home.ledger)
    campaign_id = manual(ledger, numbers(4))

    cancel(ledger, 1, campaign_id)

    current = status(ledger, 1, campaign_id)
    assert current.campaign.state == "cancelled" and current.skipped_by_reason == {"cancelled": 4}


def test_manual_send_normalizes_numbers_and_drops_repeats(home):
    ledger = Ledger(home.ledger)
    people = [("(202) 555-0100", "Ann Lee"), ("+1 202 555 0100", "Ann again"), ("202-555-0101", "")]

    campaign = send_manual(ledger, 1, people, "Hi {customer_name}")

    log = delivery_log(ledger, 1, campaign.campaign_id)
    assert campaign.kind == "manual" and campaign.state == "queued"
    assert log["phone_e164"].tolist() == ["+12025550100", "+12025550101"]
    assert log["body"].tolist() == ["Hi Ann Lee", "Hi "]


def test_manual_send_with_an_invalid_number_writes_nothing(home):
    ledger = Ledger(home.ledger)

    with pytest.raises(UserError, match="Not a valid phone number .*'12'"):
        send_manual(ledger, 1, [("2025550100", ""), ("12", "")], TEMPLATE)

    assert list_campaigns(ledger, 1) == []


def test_people_csv_reads_phone_and_name_columns(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("Name,Phone\nAnn Lee,+12025550100\nBob,2025550101\n,\n", encoding="utf-8")

    assert read_people_csv(path) == [("+12025550100", "Ann Lee"), ("2025550101", "Bob")]


def test_export_escapes_cells_a_spreadsheet_would_run_as_formulas(home, tmp_path):
    ledger = Ledger(home.ledger)
    campaign = send_manual(ledger, 1, [("+12025550100", "=HYPERLINK(evil) x")], "Hi {customer_full_name}")
    out = tmp_path / "log.csv"

    rows = export_csv(ledger, 1, campaign.campaign_id, out)

    with out.open(newline="") as handle:
        row = next(csv.DictReader(handle))
    assert rows == 1
    assert row["full_name"] == "'=HYPERLINK(evil) x" and row["body"] == "Hi =HYPERLINK(evil) x"
    assert row["state"] == "pending" and row["segments"] == "1"


def test_cli_creates_launches_and_reports_a_campaign(home):
    small_warehouse(home, count=3)
    code, output = cli("campaign", "create", "--tenant", "1", "--name", "Spring", "--segment", "all_customers",
                       "--template", TEMPLATE, "--max-attempts", "2", "--rate", "5", "--json")  # fmt: skip
    campaign_id = json.loads(output)["campaign_id"]

    launched, _ = cli("campaign", "launch", str(campaign_id), "--tenant", "1", "--queue-only")
    _, report = cli("campaign", "status", str(campaign_id), "--tenant", "1", "--json")

    document = json.loads(report)
    assert code == 0 and launched == 0
    assert document["campaign"]["state"] == "queued" and document["campaign"]["max_attempts"] == 2
    assert document["counts"]["pending"] == 3


def test_cli_treats_another_tenants_campaign_as_not_found(home):
    _, campaign_id = segment_campaign(home, tenant_id=1)

    code, output = cli("campaign", "pause", str(campaign_id), "--tenant", "2")

    assert code == 2 and output.strip() == f"Error: Campaign {campaign_id} not found for tenant 2."


def test_cli_refuses_an_unknown_shortcode_in_the_template(home):
    code, output = cli("campaign", "create", "--tenant", "1", "--name", "x", "--segment", "all_customers",
                       "--template", "Hi {nope}")  # fmt: skip

    assert code == 2 and "Unknown shortcode" in output


def test_cli_send_test_sends_one_message_rendered_with_a_sample_recipient(home, simulator):
    with_twilio(home)
    small_warehouse(home, count=2)

    code, output = cli("send-test", "--tenant", "1", "--to", "+12025550199", "--template", "Hi {customer_name}!")

    assert code == 0, output
    assert [(m["to"], m["body"]) for m in simulator.accepted()] == [("+12025550199", "Hi First100 Last100!")]


def test_cli_send_manual_from_csv_and_export_the_log(home, simulator, tmp_path):
    with_twilio(home)
    people = tmp_path / "people.csv"
    people.write_text("phone,name\n+12025550100,Ann\n+12025550101,Bob\n", encoding="utf-8")
    out = tmp_path / "log.csv"

    code, output = cli("send-manual", "--tenant", "1", "--csv", str(people), "--template", "Hi {customer_name}",
                       "--json")  # fmt: skip
    campaign_id = json.loads(output.splitlines()[-1])["campaign_id"]
    exported, _ = cli("logs", "export", str(campaign_id), "--tenant", "1", "--out", str(out))

    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert code == 0 and exported == 0
    assert [(r["state"], r["body"]) for r in rows] == [("sent", "Hi Ann"), ("sent", "Hi Bob")]
    assert {r["message_sid"] for r in rows} == {m["sid"] for m in simulator.accepted()}
