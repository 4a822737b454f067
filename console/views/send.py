"""Send: a test message to yourself, a manual send to typed numbers or a CSV, or the campaign to the audience."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from console import ui
from orchestration.audiences import SEGMENTS
from orchestration.errors import UserError
from orchestration.messages import count_segments, render_many, total_segments, validate_template
from orchestration.sender import campaigns
from orchestration.sender.manual import people_frame, read_people_csv, send_manual, send_test
from orchestration.sender.reports import delivery_log
from orchestration.sender.runner import run_campaign

WHEN = {"now": "Send now", "queue": "Queue for the background sender"}


def message_summary(body: str) -> None:
    with st.container(border=True):
        st.caption("Message (from the Compose page)")
        st.text(body)


def test_send(tenant: int, body: str) -> None:
    st.write("Send the message to your own phone first. Shortcodes are filled with the first recipient "
             "of the audience.")
    with st.form("snd_test_form", border=False):
        to = st.text_input("Your phone number", key="snd_test_to", placeholder="+1 555 010 0000")
        sent = st.form_submit_button("Send test", icon=":material/send_to_mobile:", type="primary",
                                     key="snd_test_send")
    if not sent:
        return

    def send() -> None:
        query = ui.chosen_audience(tenant)
        campaign = send_test(ui.ledger(), ui.warehouse(), tenant, to, body, query)
        with st.spinner("Sending…"):
            summary = run_campaign(ui.home(), tenant, campaign.campaign_id, max_wait_s=0)
        row = delivery_log(ui.ledger(), tenant, campaign.campaign_id).iloc[0]
        if summary.sent:
            st.success(f"Test message sent to {row['phone_e164']} (message {row['message_sid']}).",
                       icon=":material/check_circle:")
        elif row["state"] == "skipped":
            st.warning(f"Not sent: {row['phone_e164']} is on the suppression list.", icon=":material/block:")
        else:
            reason = row["last_error_message"] or summary.pause_reason or "no answer from the provider"
            code = f" (error {row['last_error_code']})" if pd.notna(row["last_error_code"]) else ""
            st.error(f"The test message was not sent{code}: {reason}", icon=":material/error:")

    ui.attempt("sending the test message", send)


def typed_people(text: str) -> list[tuple[str, str]]:
    """Lines of 'number' or 'number, name' as (number, name) pairs."""
    people = []
    for line in text.splitlines():
        if line.strip():
            number, _, name = line.partition(",")
            people.append((number.strip(), name.strip()))
    return people


def uploaded_people(upload) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / (Path(upload.name).name or "numbers.csv")
        path.write_bytes(upload.getvalue())
        people = read_people_csv(path)
    if not people:
        raise UserError(f"{upload.name} has no phone numbers under its phone column.")
    return [(number, name) for number, name in people]


def manual_send(tenant: int, body: str) -> None:
    st.write("Message specific people without a segment: type the numbers, or upload a CSV with a "
             "`phone` column (and optionally `name`).")
    source = st.segmented_control("Numbers from", ["Typed list", "CSV file"], key="snd_manual_source",
                                  default="Typed list", required=True)
    if source == "Typed list":
        text = st.text_area("Numbers, one per line (optionally “number, name”)", key="snd_manual_text",
                            placeholder="+15550100001, Ana Lima\n+15550100002", height=130)
        upload = None
    else:
        text = ""
        upload = st.file_uploader("CSV file", type=["csv", "txt"], key="snd_manual_csv")
    name = st.text_input("Send name", value="Manual send", key="snd_manual_name")
    when = st.radio("When", list(WHEN), format_func=WHEN.get, key="snd_manual_when", horizontal=True)
    if st.button("Review manual send", icon=":material/fact_check:", key="snd_manual_review"):
        def review() -> None:
            people = uploaded_people(upload) if upload is not None else typed_people(text)
            frame = people_frame(people, ui.region(tenant))
            st.session_state["snd_manual_pending"] = {"people": people, "name": name, "when": when,
                                                      "segments": total_segments(render_many(body, frame,
                                                                                 ui.company(tenant)))}
        ui.attempt("reading the numbers", review)
    pending = st.session_state.get("snd_manual_pending")
    if pending:
        confirm(
            f"{ui.number(len(pending['people']))} numbers",
            pending["segments"],
            on_confirm=lambda: launch_manual(tenant, body, pending),
            key="snd_manual",
        )


def launch_manual(tenant: int, body: str, pending: dict) -> None:
    campaign = send_manual(ui.ledger(), tenant, pending["people"], body, pending["name"], warehouse=ui.warehouse())
    st.session_state.pop("snd_manual_pending", None)
    launched(tenant, campaign, pending["when"])


def campaign_send(tenant: int, body: str) -> None:
    query = ui.chosen_audience(tenant)
    segment = SEGMENTS[query.segment]
    preview = ui.cached_preview(query, sample=1)
    if preview is None:
        return
    details = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in preview.params.items()
                        if v not in (None, [], False) and k in ("days", "min"))
    st.write(f"Audience: **{segment.label}**{f' ({details})' if details else ''} — "
             f"**{ui.number(preview.count)}** recipients. Change it on the Audience page.")
    name = st.text_input("Campaign name", key="snd_campaign_name",
                         value=f"{segment.label} — {pd.Timestamp.now(tz='UTC'):%b %d}")
    when = st.radio("When", list(WHEN), format_func=WHEN.get, key="snd_campaign_when", horizontal=True,
                    help="Queued campaigns are picked up by the background sender (Dagster) within seconds.")
    if st.button("Review campaign", icon=":material/fact_check:", type="primary", key="snd_campaign_review"):
        cost = ui.campaign_segments(query, body)
        if cost is not None:
            st.session_state["snd_campaign_pending"] = {"query": query, "name": name, "when": when,
                                                        "count": cost[0], "segments": cost[1]}
    pending = st.session_state.get("snd_campaign_pending")
    if pending and pending["query"] == query:
        confirm(
            f"{ui.number(pending['count'])} recipients",
            pending["segments"],
            on_confirm=lambda: launch_campaign(tenant, body, pending),
            key="snd_campaign",
        )


def launch_campaign(tenant: int, body: str, pending: dict) -> None:
    if pending["count"] == 0:
        raise UserError("This audience has no recipients: nothing to send.")
    draft = campaigns.create_campaign(ui.ledger(), tenant, pending["name"], body, pending["query"])
    with st.spinner("Freezing the recipient list…"):
        campaign = campaigns.launch(ui.ledger(), ui.warehouse(), tenant, draft.campaign_id)
    st.session_state.pop("snd_campaign_pending", None)
    launched(tenant, campaign, pending["when"])


def confirm(who: str, segments: int, on_confirm, key: str) -> None:
    """The last step before anything goes out: who, how many SMS segments, and two buttons."""
    with st.container(border=True):
        st.markdown("#### Ready to send?")
        cols = st.columns(2)
        cols[0].metric("Recipients", who, border=True)
        cols[1].metric("SMS segments (billed)", ui.number(segments), border=True)
        st.caption("Numbers on the suppression list are skipped at send time.")
        go, back = st.columns([1, 1])
        if go.button("Confirm and send", icon=":material/send:", type="primary", key=f"{key}_confirm",
                     width="stretch"):
            ui.attempt("launching the send", on_confirm)
        if back.button("Back", key=f"{key}_back", width="stretch"):
            st.session_state.pop(f"{key}_pending", None)
            st.rerun()


def launched(tenant: int, campaign: campaigns.Campaign, when: str) -> None:
    if when == "now":
        ui.start_sending(tenant, campaign.campaign_id)
        st.success(f"“{campaign.name}” is sending to {ui.number(campaign.recipient_count)} recipients.",
                   icon=":material/rocket_launch:")
    else:
        st.success(f"“{campaign.name}” is queued for {ui.number(campaign.recipient_count)} recipients; the "
                   "background sender starts it shortly.", icon=":material/schedule_send:")
    ui.focus_campaign(campaign.campaign_id)
    st.page_link("views/campaigns.py", label="Follow it on the Campaigns page", icon=":material/campaign:")


tenant = ui.tenant_id()
ui.page_header("Send", "Test it on your own phone, message a list, or send the campaign.")
body = st.session_state.get(ui.MESSAGE, "")
problems = validate_template(body) if body else ["No message yet"]
if problems:
    st.error("Write the message on the Compose page first: " + "; ".join(problems) + ".",
             icon=":material/edit_note:")
    st.page_link("views/compose.py", label="Go to Compose", icon=":material/edit_note:")
else:
    message_summary(body)
    st.caption(f"{count_segments(body).encoding} template · shortcodes are filled for each recipient")
    test_tab, manual_tab, campaign_tab = st.tabs(["Test send", "Manual send", "Campaign"])
    with test_tab:
        test_send(tenant, body)
    with manual_tab:
        manual_send(tenant, body)
    with campaign_tab:
        if ui.require_warehouse():
            campaign_send(tenant, body)
