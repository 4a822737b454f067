"""The console's SMS credits (review step, Settings top-up) and its Recurring page, with Streamlit's AppTest."""

from __future__ import annotations

from console import ui
from orchestration.audiences import AudienceQuery
from orchestration.credits import balance, topup
from orchestration.ledger import Ledger
from orchestration.recurring import definitions
from tests import test_console
from tests.test_console import open_page

demo_template, demo, sending = test_console.demo_template, test_console.demo, test_console.sending


def test_the_review_step_refuses_a_send_the_credits_do_not_cover_with_the_numbers(sending):
    topup(Ledger(sending.ledger), 1, 3)
    app = open_page("send", **{ui.MESSAGE: "Hello"})
    app.button(key="snd_campaign_review").click().run()

    errors = [e.value for e in app.error]
    assert any(e.startswith("Not enough SMS credits: this send needs") and "and 3 are left" in e for e in errors)
    app.button(key="snd_campaign_confirm").click().run()
    assert any("out of credits" in e.value for e in app.error)  # the launch itself refuses, nothing is sent
    assert balance(Ledger(sending.ledger), 1) == 3


def test_an_operator_tops_up_on_the_settings_page(demo):
    app = open_page("settings")
    app.number_input(key="set_topup_segments").set_value(2500)
    app.text_input(key="set_topup_note").set_value("invoice 9")
    app.button(key="set_topup").click().run()

    assert balance(Ledger(demo.ledger), 1) == 2500
    assert [s.value for s in app.success] == ["Balance: 2,500 segments."]


def test_the_recurring_page_adds_a_recurring_campaign_for_the_chosen_audience_and_message(demo):
    app = open_page("recurring", **{ui.MESSAGE: "See you soon {customer_first_name}"})
    app.session_state[ui.AUDIENCE] = AudienceQuery(1, "upcoming", days=1)  # as the Audience page leaves it
    app.run()
    app.text_input(key="rec_name").set_value("Reminder")
    app.text_input(key="rec_schedule").set_value("weekday at 9:30")
    app.text_input(key="rec_zone").set_value("America/New_York")
    app.button(key="rec_add").click().run()

    found = definitions.list_recurring(Ledger(demo.ledger), 1)
    assert [(f.name, f.cron, f.timezone, f.audience["segment"]) for f in found] == [
        ("Reminder", "30 9 * * 1-5", "America/New_York", "upcoming")]
    assert found[0].audience["days"] == 1
    assert not app.exception
    app.button(key="rec_pause").click().run()
    assert definitions.list_recurring(Ledger(demo.ledger), 1)[0].state == "paused"
