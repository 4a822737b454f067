"""The Streamlit console, page by page (AppTest): it shows the core's figures (the delivery funnel too), acts through
the core's API (a resend too), turns bad input into one message, and keeps every tenant to itself."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from console import ui
from orchestration.audiences import AudienceQuery, filter_options, preview
from orchestration.cli import main
from orchestration.config import Home
from orchestration.delivery.poll import client_for, poll_tenant
from orchestration.ledger import Ledger
from orchestration.ledger.suppression import SuppressionList
from orchestration.messages import templates
from orchestration.sender import campaigns, run_campaign, send_manual
from orchestration.sender.pacing import sender_throughput_setting
from orchestration.simulator import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN
from orchestration.source.folder import SnapshotFolder
from orchestration.source.synthetic import as_of_default, generate, write_snapshot
from orchestration.tenants import TokenCipher, TwilioCredentials, save_twilio, twilio_summary
from orchestration.warehouse import Warehouse
from orchestration.warehouse.sync import sync
from tests.sending import numbers, stop_send_runs
from tests.signed_in import sign_in_as

APP = Path(__file__).resolve().parents[1] / "console" / "app.py"
PAGES = ("audience", "compose", "send", "campaigns", "logs", "suppression", "settings")
TENANTS = (1, 2)
MESSAGE = "Hi {customer_first_name}, see you soon at {company_name}!"


# --- a small two-tenant demo home ------------------------------------------------------------------


def build_demo_home(root: Path, customers: int = 400) -> Home:
    """Synthetic Booknetic data for two tenants, synced into `root`'s warehouse; an empty ledger."""
    home = Home.resolve(root).ensure()
    source = root.parent / f"{root.name}-source"
    as_of = as_of_default()
    write_snapshot(generate(customers, len(TENANTS), seed=11, as_of=as_of), source)
    sync(SnapshotFolder(source), Warehouse(home.warehouse), as_of)
    Ledger(home.ledger)
    return home


def point_tenants_at(home: Home, base_url: str) -> None:
    """Both tenants send with the simulator's demo account."""
    ledger, cipher = Ledger(home.ledger), TokenCipher.for_home(home)
    for tenant in TENANTS:
        credentials = TwilioCredentials(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, from_number=f"+1555010000{tenant}",
                                        api_base_url=base_url)
        save_twilio(ledger, tenant, credentials, cipher)


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory) -> Home:
    return build_demo_home(tmp_path_factory.mktemp("console") / "home")


@pytest.fixture
def demo(demo_template, tmp_path, monkeypatch) -> Home:
    """A private copy of the demo home, exported as BKNTC_SMS_HOME."""
    shutil.copytree(demo_template.root, tmp_path / "home")
    monkeypatch.setenv("BKNTC_SMS_HOME", str(tmp_path / "home"))
    return Home.resolve(tmp_path / "home")


@pytest.fixture
def sending(demo, simulator) -> Iterator[Home]:
    point_tenants_at(demo, simulator.base_url)
    yield demo
    stop_send_runs(demo)  # a launch or resume started a Dagster run process: end it with the test


def open_page(page: str, tenant: int = 1, **state) -> AppTest:
    """The console on `page` for `tenant`, after a first run of the app (as a browser would load it)."""
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.session_state[ui.SESSION_KEY] = sign_in_as(Home.resolve())  # an operator, so the tenant below is honoured
    app.session_state["tenant_id"] = tenant
    for key, value in state.items():
        app.session_state[key] = value
    app.run()
    if page != "audience":
        app.switch_page(f"views/{page}.py").run()
    return app


def texts(app: AppTest) -> str:
    """Everything the page shows (every element's content, every table's cells), for "does not show" checks."""
    shown, blocks = [], [app._tree]
    while blocks:
        for child in blocks.pop().children.values():
            if hasattr(child, "children"):
                blocks.append(child)
            elif type(child).__name__ == "Dataframe":
                shown.append(child.value.to_csv())
            else:
                shown.append(str(child.proto))
    return "\n".join(shown)


def no_failures(app: AppTest) -> bool:
    return not app.exception and not [e for e in app.error]


def make_campaign(home: Home, tenant: int, name: str) -> campaigns.Campaign:
    ledger, warehouse = Ledger(home.ledger), Warehouse(home.warehouse)
    draft = campaigns.create_campaign(ledger, tenant, name, MESSAGE, AudienceQuery(tenant, "first_time"))
    return campaigns.launch(ledger, warehouse, tenant, draft.campaign_id)


# --- every page ------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens_without_an_error(sending, page):
    app = open_page(page, **{ui.MESSAGE: MESSAGE})
    assert no_failures(app), [e.value for e in app.error] + [e.value for e in app.exception]
    assert app.title[0].value
    assert app.sidebar.selectbox(key="tenant_id").value == 1


def test_sidebar_says_the_simulator_receives_everything(sending):
    app = open_page("audience")
    assert any("nothing leaves this machine" in h.proto.body for h in app.sidebar.get("html"))


# --- audience --------------------------------------------------------------------------------------


def test_audience_page_shows_the_segment_catalog_and_the_tenants_filters(demo):
    app = open_page("audience")
    options = filter_options(Warehouse(demo.warehouse), 1)
    assert app.selectbox(key="aud_segment").options[:2] == ["Recent bookers", "Upcoming appointments"]
    assert app.multiselect(key="aud_services").options == list(options.services["name"])
    assert app.multiselect(key="aud_locations").options == list(options.locations["name"])
    assert app.segmented_control(key="aud_param_recent_bookers").options == ["7 days", "30 days", "90 days",
                                                                             "Custom…"]


def test_audience_count_matches_the_preview_for_the_chosen_filters(demo):
    options = filter_options(Warehouse(demo.warehouse), 1)
    service = int(options.services["service_id"].iloc[0])
    app = open_page("audience")
    app.selectbox(key="aud_segment").set_value("lapsed").run()
    app.segmented_control(key="aud_param_lapsed").set_value("180 days").run()
    app.multiselect(key="aud_services").set_value([service]).run()
    expected = preview(Warehouse(demo.warehouse), Ledger(demo.ledger),
                       AudienceQuery(1, "lapsed", days=180, service_ids=(service,), exclude_suppressed=True))
    shown = {m.label: m.value for m in app.metric}
    assert shown["Recipients"] == f"{expected.count:,}"
    assert shown["Excluded"] == f"{sum(expected.excluded.values()):,}"


def test_audience_custom_window_is_used_for_the_count(demo):
    app = open_page("audience")
    app.segmented_control(key="aud_param_recent_bookers").set_value("Custom…").run()
    app.number_input(key="aud_custom_recent_bookers").set_value(45).run()
    expected = preview(Warehouse(demo.warehouse), Ledger(demo.ledger),
                       AudienceQuery(1, "recent_bookers", days=45, exclude_suppressed=True))
    assert {m.label: m.value for m in app.metric}["Recipients"] == f"{expected.count:,}"


# --- compose ---------------------------------------------------------------------------------------


def test_compose_shows_an_unknown_shortcode_as_an_error(demo):
    app = open_page("compose")
    app.text_area(key="cmp_body").set_value("Hi {customer_nickname}!").run()
    assert len(app.error) == 1
    assert "Unknown shortcode(s): {customer_nickname}" in app.error[0].value
    assert not app.metric  # no preview, no cost for a message that cannot be sent


def test_compose_renders_the_message_for_real_recipients_with_its_cost(demo):
    app = open_page("compose")
    app.text_area(key="cmp_body").set_value("Hi {customer_first_name}!").run()
    first = preview(Warehouse(demo.warehouse), None, AudienceQuery(1, "recent_bookers", exclude_suppressed=False))
    assert no_failures(app)
    assert f"Hi {first.sample['first_name'].iloc[0]}!" in [t.value for t in app.text]
    assert {m.label for m in app.metric} >= {"Encoding", "Characters", "SMS per message", "Campaign total (est.)"}


def test_compose_inserts_a_shortcode_and_saves_the_template(demo):
    app = open_page("compose")
    app.text_area(key="cmp_body").set_value("Hello").run()
    app.selectbox(key="cmp_shortcode").set_value("customer_name").run()
    app.button(key="cmp_insert").click().run()
    assert app.text_area(key="cmp_body").value == "Hello {customer_name}"
    app.text_input(key="cmp_name").set_value("Greeting")
    app.button(key="cmp_save").click().run()
    assert [t.body for t in templates.list_templates(Ledger(demo.ledger), 1)] == ["Hello {customer_name}"]


# --- send ------------------------------------------------------------------------------------------


def test_test_send_reaches_the_simulator(sending, simulator):
    app = open_page("send", **{ui.MESSAGE: MESSAGE})
    app.text_input(key="snd_test_to").set_value("+14155552671")
    app.button(key="snd_test_send").click().run()
    assert no_failures(app)
    assert "Test message sent to +14155552671" in app.success[0].value
    [message] = simulator.accepted("+14155552671")
    assert message["body"].startswith("Hi ") and "{" not in message["body"]


def test_test_send_to_an_invalid_number_shows_one_error_and_sends_nothing(sending, simulator):
    app = open_page("send", **{ui.MESSAGE: MESSAGE})
    app.text_input(key="snd_test_to").set_value("not a phone")
    app.button(key="snd_test_send").click().run()
    assert [e.value for e in app.error] == ["Not a valid phone number (region US): 'not a phone'."]
    assert not app.exception
    assert campaigns.list_campaigns(Ledger(sending.ledger), 1) == []
    assert simulator.accepted() == []


def test_send_page_refuses_an_empty_message(sending):
    app = open_page("send", **{ui.MESSAGE: "   "})
    assert len(app.error) == 1 and "The message is empty" in app.error[0].value
    assert [b.key for b in app.button] == ["auth_sign_out"]  # no send button, only the sidebar's sign-out


def test_manual_send_from_a_csv_in_the_wrong_shape_shows_one_error(sending):
    app = open_page("send", **{ui.MESSAGE: MESSAGE})
    app.segmented_control(key="snd_manual_source").set_value("CSV file").run()
    app.file_uploader(key="snd_manual_csv").upload("people.csv", b"email\nana@example.com\n", "text/csv").run()
    app.button(key="snd_manual_review").click().run()
    assert len(app.error) == 1 and "no phone column" in app.error[0].value
    assert campaigns.list_campaigns(Ledger(sending.ledger), 1) == []


def test_campaign_send_asks_for_confirmation_with_recipients_and_segments(sending):
    app = open_page("audience")
    app.selectbox(key="aud_segment").set_value("first_time").run()
    app.session_state[ui.MESSAGE] = MESSAGE
    app.switch_page("views/send.py").run()
    app.button(key="snd_campaign_review").click().run()
    expected = preview(Warehouse(sending.warehouse), Ledger(sending.ledger),
                       AudienceQuery(1, "first_time", exclude_suppressed=True))
    shown = {m.label: m.value for m in app.metric}
    assert shown["Recipients"] == f"{expected.count:,} recipients"
    assert int(shown["SMS segments (billed)"].replace(",", "")) >= expected.count
    assert campaigns.list_campaigns(Ledger(sending.ledger), 1) == []  # nothing goes out before confirming
    app.button(key="snd_campaign_confirm").click().run()
    [campaign] = campaigns.list_campaigns(Ledger(sending.ledger), 1)
    assert (campaign.state, campaign.recipient_count) == ("queued", expected.count)


# --- campaigns -------------------------------------------------------------------------------------


def test_pause_and_resume_change_the_campaign_state(sending):
    campaign = make_campaign(sending, 1, "Spring")
    ledger = Ledger(sending.ledger)
    app = open_page("campaigns")
    app.button(key=f"cmp_pause_{campaign.campaign_id}").click().run()
    assert campaigns.get_campaign(ledger, 1, campaign.campaign_id).state == "paused"
    assert app.button(key=f"cmp_resume_{campaign.campaign_id}").disabled is False
    app.button(key=f"cmp_resume_{campaign.campaign_id}").click().run()
    assert campaigns.get_campaign(ledger, 1, campaign.campaign_id).state != "paused"


def test_campaigns_page_shows_live_progress_figures(sending):
    make_campaign(sending, 1, "Spring")
    app = open_page("campaigns")
    shown = {m.label for m in app.metric}
    assert shown >= {"Total", "Sent", "Failed", "Pending", "Skipped", "Send rate", "Time left", "Attempts"}
    assert app.get("progress")


def test_a_completed_campaign_cannot_be_paused_again(sending):
    campaign = make_campaign(sending, 1, "Spring")
    campaigns.cancel(Ledger(sending.ledger), 1, campaign.campaign_id)
    app = open_page("campaigns")
    assert app.button(key=f"cmp_pause_{campaign.campaign_id}").disabled


# --- delivery and resend ---------------------------------------------------------------------------

UNREACHABLE_HANDSET = "+12025550003"  # undelivered 30003
BLOCKED_SENDER = "+12025550034"  # failed 30034
TENANT_SENDER = "+15550100001"  # test_console's tenant 1 sends from it


def settled(home) -> int:
    """Tenant 1's campaign to 2 deliverable numbers, one 30003 and one 30034, sent and polled to final."""
    ledger = Ledger(home.ledger)
    people = [(phone, f"Pat {i}") for i, phone in enumerate([*numbers(2), UNREACHABLE_HANDSET, BLOCKED_SENDER])]
    campaign = send_manual(ledger, 1, people, "Hi {customer_first_name}!", name="Spring",
                           settings=campaigns.CampaignSettings(rate_limit_per_s=0))
    run_campaign(home, 1, campaign.campaign_id)
    poll_tenant(ledger, 1, client_for(home, ledger, 1), now=lambda: time.time() + 11)
    return campaign.campaign_id


def test_campaign_page_shows_the_delivery_funnel_per_sender_and_by_code(sending):
    settled(sending)

    app = open_page("campaigns")

    figures = {m.label: m.value for m in app.metric}
    assert (figures["Delivered"], figures["Undelivered"], figures["Delivery rate"]) == ("2", "1", "50.0%")
    assert [c for c in app.get("vega_lite_chart") if '"Stage"' in c.proto.spec], "no funnel chart"
    shown = texts(app)
    assert "30003" in shown and "Unreachable destination handset" in shown
    assert "30034" in shown
    assert any(f"sender {TENANT_SENDER} blocked: 30034" in w.value for w in app.warning)  # after it completed
    by_sender = next(t.value for t in app.dataframe if "Sender" in t.value.columns and "Delivery rate" in t.value)
    assert by_sender.to_dict("records") == [
        {"Sender": TENANT_SENDER, "Accepted": 4, "Delivered": 2, "Not delivered": 2, "Delivery rate": "50.0%"}]


def test_resend_button_queues_a_linked_campaign_to_the_ones_that_did_not_get_it_and_shows_it(sending):
    origin = settled(sending)
    ledger = Ledger(sending.ledger)
    app = open_page("campaigns")

    app.multiselect(key=f"cmp_resend_only_{origin}").set_value(["undelivered"])
    app.button(key=f"cmp_resend_{origin}").click().run()

    made = [c for c in campaigns.list_campaigns(ledger, 1) if c.origin_campaign_id == origin]
    assert len(made) == 1 and made[0].recipient_count == 1
    assert app.session_state["campaign_selected"] == made[0].campaign_id
    assert f"A resend of campaign #{origin}" in texts(app)


# --- logs ------------------------------------------------------------------------------------------


def test_log_download_is_the_same_file_as_the_cli_export(sending, tmp_path):
    send = open_page("send", **{ui.MESSAGE: '=HYPERLINK("x") {customer_first_name}'})
    send.text_input(key="snd_test_to").set_value("+14155552671")
    send.button(key="snd_test_send").click().run()
    [campaign] = campaigns.list_campaigns(Ledger(sending.ledger), 1)
    app = open_page("logs")
    assert app.get("download_button")
    out = tmp_path / "cli.csv"
    result = CliRunner().invoke(main, ["logs", "export", str(campaign.campaign_id), "--tenant", "1",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert ui.delivery_log_csv(1, campaign.campaign_id) == out.read_bytes()
    assert b"'=HYPERLINK" in out.read_bytes()


def test_log_filters_by_status(sending):
    campaign = make_campaign(sending, 1, "Spring")
    app = open_page("logs")
    app.selectbox(key="log_state").set_value("sent").run()
    assert app.dataframe[0].value.empty
    app.selectbox(key="log_state").set_value("pending").run()
    assert len(app.dataframe[0].value) == campaign.recipient_count


# --- suppression -----------------------------------------------------------------------------------


def test_suppression_import_reports_added_duplicates_and_invalid(demo):
    app = open_page("suppression")
    app.file_uploader(key="sup_import_file").upload(
        "stop.csv", b"phone\n+14155550143\n+14155550143\nnot-a-number\n+12025550143\n", "text/csv").run()
    app.button(key="sup_import").click().run()
    shown = {m.label: m.value for m in app.metric}
    assert shown == {"Added": "2", "Duplicates": "1", "Invalid": "1"}
    assert SuppressionList(Ledger(demo.ledger), 1).numbers() == ["+12025550143", "+14155550143"]


def test_suppression_add_of_an_invalid_number_shows_one_error_and_keeps_the_list(demo):
    app = open_page("suppression")
    app.text_input(key="sup_add_phone").set_value("12")
    app.button(key="sup_add").click().run()
    assert len(app.error) == 1 and "not a valid phone number" in app.error[0].value
    assert SuppressionList(Ledger(demo.ledger), 1).count() == 0


def test_suppression_add_then_search_finds_the_number(demo):
    app = open_page("suppression")
    app.text_input(key="sup_add_phone").set_value("+1 312 555 7788")
    app.button(key="sup_add").click().run()
    app.text_input(key="sup_search").set_value("5557788").run()
    assert list(app.dataframe[0].value["Phone"]) == ["+13125557788"]


# --- settings --------------------------------------------------------------------------------------


def test_settings_never_show_the_auth_token(sending):
    app = open_page("settings")
    assert DEMO_AUTH_TOKEN not in texts(app)
    assert all(t.value != DEMO_AUTH_TOKEN for t in app.text_input)


def test_check_credentials_reports_in_words(sending):
    app = open_page("settings")
    app.button(key="set_check").click().run()
    assert app.success and app.success[0].value.startswith("Credentials work")


def test_settings_refuse_an_invalid_account_sid_and_keep_the_saved_credentials(sending):
    app = open_page("settings")
    app.text_input[0].set_value("AC-not-a-sid")
    app.button(key="set_save_credentials").click().run()
    assert len(app.error) == 1 and "Account SID" in app.error[0].value
    assert DEMO_ACCOUNT_SID in texts(open_page("settings"))


def test_settings_set_the_senders_shared_throughput_and_refuse_a_bad_one(sending):
    app = open_page("settings")
    rate = next(t for t in app.text_input if t.label.startswith("Sender throughput"))
    rate.set_value("2.5")
    app.button(key="set_save_credentials").click().run()
    saved = pacing_of(sending)

    app = open_page("settings")
    next(t for t in app.text_input if t.label.startswith("Sender throughput")).set_value("fast")
    app.button(key="set_save_credentials").click().run()

    assert saved == (2.5, 2.5)
    assert len(app.error) == 1 and "Sender throughput" in app.error[0].value
    assert pacing_of(sending) == (2.5, 2.5)  # the bad value changed nothing


def pacing_of(home: Home) -> tuple[float | None, float]:
    ledger = Ledger(home.ledger)
    summary = twilio_summary(ledger, 1)
    with ledger.read() as con:
        return sender_throughput_setting(con, 1, summary.messaging_service_sid or summary.from_number)


# --- tenants ---------------------------------------------------------------------------------------


def test_tenant_pages_show_nothing_of_another_tenant(sending):
    ledger = Ledger(sending.ledger)
    SuppressionList(ledger, 2).add("+14155559999", reason="tenant two only")
    templates.save(ledger, 2, "Tenant two template", "Hello from two")
    make_campaign(sending, 2, "Tenant two campaign")
    make_campaign(sending, 1, "Tenant one campaign")
    assert "Tenant one campaign" in texts(open_page("campaigns"))  # the check below sees what a page shows
    two = preview(Warehouse(sending.warehouse), None, AudienceQuery(2, "all_customers"), sample=50).sample
    for page in PAGES:
        shown = texts(open_page(page, **{ui.MESSAGE: MESSAGE}))
        for marker in ("+14155559999", "tenant two only", "Tenant two template", "Tenant two campaign",
                       *two["phone_e164"].head(20)):
            assert marker not in shown, (page, marker)
