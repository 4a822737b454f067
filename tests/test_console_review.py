"""The console defects a new user found (issue 13), page by page with Streamlit's AppTest: the live rate and the
average rate, the rate chart, the campaign opened after a launch, the review step (filters, cost), manual sends
(what each recipient gets, unfillable shortcodes, bad lines, duplicates), error meanings, empty cells, the
suppression count after an import, the business name, and members on the suppression list."""

from __future__ import annotations

import json
import time

import pandas as pd

from console import ui
from orchestration.audiences import AudienceQuery, filter_options, preview
from orchestration.gateway.errors import error_meaning
from orchestration.ledger import Ledger
from orchestration.ledger.suppression import SuppressionList
from orchestration.messages.pricing import list_prices, set_tenant_price
from orchestration.sender import campaigns
from orchestration.sender.campaigns import company_details
from orchestration.sender.manual import send_manual
from orchestration.sender.reports import progress
from orchestration.sender.runner import run_campaign
from orchestration.warehouse import Warehouse
from tests import test_console
from tests.test_console import MESSAGE, make_campaign, no_failures, open_page

# the console tests' fixtures: a two-tenant demo home (copied per test), with both tenants sending to the simulator
demo_template, demo, sending = test_console.demo_template, test_console.demo, test_console.sending


def record_sends(home, campaign: campaigns.Campaign, sends: int, per_s: float, state: str, ago_s: float) -> None:
    """`sends` attempts sent at exactly `per_s`, the first `ago_s` seconds ago, and the campaign in `state`."""
    ledger = Ledger(home.ledger)
    start = time.time() - ago_s
    with ledger.write() as con:
        ids = [r[0] for r in con.execute("SELECT recipient_id FROM recipients WHERE campaign_id = ? "
                                         "ORDER BY recipient_id LIMIT ?", (campaign.campaign_id, sends))]
        for n, recipient in enumerate(ids):
            at = start + n / per_s
            con.execute("INSERT INTO attempts (recipient_id, campaign_id, attempt_no, claim_id, started_at, "
                        "finished_at, outcome) VALUES (?, ?, 1, 'test', ?, ?, 'sent')",
                        (recipient, campaign.campaign_id, at, at))
            con.execute("UPDATE recipients SET state = 'sent', sent_at = ? WHERE recipient_id = ?", (at, recipient))
        con.execute("UPDATE campaigns SET state = ? WHERE campaign_id = ?", (state, campaign.campaign_id))
    assert len(ids) == sends


def big_campaign(home, name: str = "Spring") -> campaigns.Campaign:
    ledger, warehouse = Ledger(home.ledger), Warehouse(home.warehouse)
    draft = campaigns.create_campaign(ledger, 1, name, MESSAGE, AudienceQuery(1, "all_customers"))
    return campaigns.launch(ledger, warehouse, 1, draft.campaign_id)


# --- rate, time left, chart ------------------------------------------------------------------------


def test_live_send_rate_is_the_recent_rate_since_the_first_send_not_spread_over_the_window(demo):
    campaign = big_campaign(demo)
    record_sends(demo, campaign, sends=120, per_s=10.0, state="sending", ago_s=12.0)
    view = progress(Ledger(demo.ledger), 1, campaign.campaign_id)
    assert 9.0 < view.rate_per_s <= 10.0  # 120 sent over ~12 s; the 60-s window would say 2.0/s
    assert view.eta_s is not None and abs(view.eta_s - view.remaining / view.rate_per_s) < 1e-6


def test_a_completed_campaign_shows_its_average_rate(demo):
    campaign = big_campaign(demo)
    record_sends(demo, campaign, sends=101, per_s=10.0, state="completed", ago_s=600.0)
    app = open_page("campaigns")
    shown = {m.label: m.value for m in app.metric}
    assert shown["Average rate"] == "10.1/s"  # 101 messages over the 10 s from the first to the last
    assert "Send rate" not in shown


def test_rate_chart_shows_clock_times_without_smoothing_and_never_above_the_rate_held(demo):
    campaign = big_campaign(demo)
    record_sends(demo, campaign, sends=120, per_s=10.0, state="completed", ago_s=600.0)
    frame = ui.rate_frame(pd.to_datetime(pd.Series([time.time() - 600 + n / 10 for n in range(120)]), unit="s"))
    app = open_page("campaigns")
    [spec] = [spec for spec in (json.loads(chart.proto.spec) for chart in app.get("vega_lite_chart"))
              if "Messages per second" in json.dumps(spec)]  # the rate chart (the delivery funnel is another)
    assert frame["rate"].max() <= 10.0 and frame.attrs["bucket_s"] >= ui.MIN_BUCKET_S
    assert "%H:%M:%S" in json.dumps(spec) and "monotone" not in json.dumps(spec)


def test_after_a_launch_the_campaigns_and_delivery_log_pages_open_that_campaign(sending):
    older = make_campaign(sending, 1, "Older")
    make_campaign(sending, 1, "Newer")
    app = open_page("campaigns")
    app.selectbox(key="campaign_selected").set_value(older.campaign_id).run()  # the person looks at the older one
    app.session_state[ui.MESSAGE] = MESSAGE
    app.switch_page("views/send.py").run()
    app.button(key="snd_campaign_review").click().run()
    app.button(key="snd_campaign_confirm").click().run()
    newest = campaigns.list_campaigns(Ledger(sending.ledger), 1)[0]
    assert newest.campaign_id != older.campaign_id
    app.switch_page("views/campaigns.py").run()
    on_campaigns = app.selectbox(key="campaign_selected").value
    app.switch_page("views/logs.py").run()
    assert (on_campaigns, app.selectbox(key="campaign_selected").value) == (newest.campaign_id,) * 2


def test_the_picker_shows_the_state_a_campaign_has_now(sending):
    campaign = make_campaign(sending, 1, "Spring")
    app = open_page("logs")
    sending_label = app.selectbox(key="campaign_selected").options[0]
    campaigns.cancel(Ledger(sending.ledger), 1, campaign.campaign_id)
    app.run()
    assert sending_label.endswith("(queued)")
    assert app.selectbox(key="campaign_selected").options[0].endswith("(cancelled)")


# --- the review step -------------------------------------------------------------------------------


def test_campaign_review_lists_every_filter_and_an_estimated_cost(sending):
    options = filter_options(Warehouse(sending.warehouse), 1)
    service, name = int(options.services["service_id"].iloc[0]), options.services["name"].iloc[0]
    app = open_page("audience")
    app.selectbox(key="aud_segment").set_value("lapsed").run()
    app.segmented_control(key="aud_param_lapsed").set_value("180 days").run()
    app.multiselect(key="aud_services").set_value([service]).run()
    app.session_state[ui.MESSAGE] = MESSAGE
    app.switch_page("views/send.py").run()
    app.button(key="snd_campaign_review").click().run()
    shown = {m.label: m.value for m in app.metric}
    segments = int(shown["SMS segments (billed)"].replace(",", ""))
    listed = "\n".join(m.value for m in app.markdown)
    assert "Window: the last 180 days" in listed and f"Services: {name}" in listed
    assert "Suppression list: left out of the count" in listed
    assert shown["Estimated cost"].startswith("$") and float(shown["Estimated cost"][1:].replace(",", "")) > 0
    assert float(shown["Estimated cost"][1:].replace(",", "")) <= segments * max(list_prices().values())


def test_a_tenants_own_price_per_segment_sets_the_estimate(sending):
    set_tenant_price(Ledger(sending.ledger), 1, 0.01)
    app = open_page("send", **{ui.MESSAGE: "Hello"})  # one GSM-7 segment per recipient
    app.button(key="snd_campaign_review").click().run()
    shown = {m.label: m.value for m in app.metric}
    assert shown["Estimated cost"] == ui.money(int(shown["SMS segments (billed)"].replace(",", "")) * 0.01)


# --- manual sends ----------------------------------------------------------------------------------


def manual_review(app, lines: str):
    app.text_area(key="snd_manual_text").set_value(lines).run()
    return app.button(key="snd_manual_review").click().run()


def test_manual_send_refuses_a_shortcode_a_typed_recipient_cannot_fill(sending):
    app = manual_review(open_page("send", **{ui.MESSAGE: "Hi {customer_first_name}! See you soon."}),
                        "+14155550101, Ana Lima\n+14155550102")
    assert len(app.error) == 1 and "{customer_first_name} has no value for 1 of 2 recipients" in app.error[0].value
    assert "{customer_first_name|there}" in app.error[0].value
    assert not [b for b in app.button if b.key == "snd_manual_confirm"]
    assert campaigns.list_campaigns(Ledger(sending.ledger), 1) == []


def test_manual_send_shows_what_each_recipient_receives_with_the_fallback(sending):
    app = manual_review(open_page("send", **{ui.MESSAGE: "Hi {customer_first_name|there}! See you soon."}),
                        "+14155550101, Ana Lima\n+14155550102")
    table = next(d.value for d in app.dataframe if "Message" in d.value.columns)
    assert list(table["Message"]) == ["Hi Ana! See you soon.", "Hi there! See you soon."]
    app.button(key="snd_manual_confirm").click().run()
    [campaign] = campaigns.list_campaigns(Ledger(sending.ledger), 1)
    assert campaign.recipient_count == 2


def test_a_typed_list_skips_bad_lines_by_number_and_reports_merged_duplicates(sending):
    lines = "+14155550101\n+14155550102\nnot a phone\n+14155550103\n+1 415 555 0101\n+14155550104\n+14155550105"
    app = manual_review(open_page("send", **{ui.MESSAGE: "Hello"}), lines)
    said = "\n".join(m.value for m in app.markdown)
    assert "7 lines: 5 numbers, 1 duplicate merged (line 5), 1 skipped (not a phone number)" in said
    assert "line 3: 'not a phone'" in app.warning[0].value and "line 5 repeats line 1" in app.info[0].value
    app.button(key="snd_manual_confirm").click().run()
    assert campaigns.list_campaigns(Ledger(sending.ledger), 1)[0].recipient_count == 5


# --- error meanings, empty cells, CSV --------------------------------------------------------------


def failed_manual_send(home) -> campaigns.Campaign:
    ledger = Ledger(home.ledger)
    campaign = send_manual(ledger, 1, [("+14155550011", ""), ("+14155550100", "Ana")], "Hello",
                           warehouse=Warehouse(home.warehouse))
    run_campaign(home, 1, campaign.campaign_id, max_wait_s=0)
    return campaign


def test_delivery_log_shows_error_codes_with_their_meanings_and_no_none(sending):
    failed_manual_send(sending)
    app = open_page("logs")
    table = app.dataframe[0].value
    failed = table[table["Error code"] == "21211"]
    assert list(failed["What it means"]) == [error_meaning(21211)]
    assert "None" not in table.to_csv() and "nan" not in table.to_csv().lower().replace("nan", "", 0)
    assert any(error_meaning(21211) in option for option in app.selectbox(key="log_code").options)


def test_delivery_log_csv_keeps_phones_as_they_are(sending):
    campaign = failed_manual_send(sending)
    csv = ui.delivery_log_csv(1, campaign.campaign_id).decode()
    assert ",+14155550100," in csv and "'+1" not in csv


# --- suppression, settings, audience ---------------------------------------------------------------


def test_suppression_count_updates_right_after_an_import(demo):
    app = open_page("suppression")
    app.file_uploader(key="sup_import_file").upload("stop.csv", b"phone\n+14155550143\n+12025550143\n",
                                                    "text/csv").run()
    app.button(key="sup_import").click().run()
    assert any(c.value == "2 shown of 2 suppressed numbers" for c in app.caption)


def test_settings_show_the_company_name_the_messages_use(demo):
    company = company_details(Warehouse(demo.warehouse), 1)["name"]
    app = open_page("settings")
    field = next(t for t in app.text_input if t.label == "Business name")
    assert company and field.value == company
    assert any(company in c.value for c in app.caption)


def test_audience_page_says_members_on_the_suppression_list_will_be_skipped(demo):
    first = preview(Warehouse(demo.warehouse), None, AudienceQuery(1, "recent_bookers"), sample=1).sample
    SuppressionList(Ledger(demo.ledger), 1).add(first["phone_e164"].iloc[0])
    app = open_page("audience")
    app.toggle(key="aud_exclude_suppressed").set_value(False).run()
    assert no_failures(app)
    assert any("1 of these recipients are on the suppression list" in w.value for w in app.warning)


def test_cli_campaign_status_shows_each_error_code_with_its_meaning(sending):
    from click.testing import CliRunner

    from orchestration.cli import main

    campaign = failed_manual_send(sending)
    result = CliRunner().invoke(main, ["campaign", "status", str(campaign.campaign_id), "--tenant", "1"])
    assert result.exit_code == 0, result.output
    assert f"21211 x1: {error_meaning(21211)}" in result.output


def test_a_csv_list_reports_its_rows_and_merged_duplicates(sending):
    app = open_page("send", **{ui.MESSAGE: "Hi {customer_first_name|there}"})
    app.segmented_control(key="snd_manual_source").set_value("CSV file").run()
    app.file_uploader(key="snd_manual_csv").upload(
        "people.csv", b"phone,name\n+14155550101,Ana Lima\n+14155550102,\n+14155550101,Ana again\n", "text/csv").run()
    app.button(key="snd_manual_review").click().run()
    assert "3 rows: 2 numbers, 1 duplicate merged (row 3)" in "\n".join(m.value for m in app.markdown)
    table = next(d.value for d in app.dataframe if "Message" in d.value.columns)
    assert list(table["Message"]) == ["Hi Ana", "Hi there"]
