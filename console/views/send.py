"""Send: a test message to yourself, a manual send to typed numbers or a CSV, or the campaign to the audience."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from console import ui
from orchestration import credits
from orchestration.audiences import SEGMENTS
from orchestration.errors import UserError
from orchestration.gateway.errors import error_meaning
from orchestration.messages import count_segments, count_segments_many, render_many, validate_template
from orchestration.messages.pricing import PRICES_DATE, PRICES_SOURCE, CostEstimate, tenant_price
from orchestration.messages.shortcodes import shortcodes_without_fallback
from orchestration.sender import campaigns
from orchestration.sender.manual import normalize_phone, people_frame, read_people_csv, send_manual, send_test
from orchestration.sender.reports import delivery_log
from orchestration.sender.runner import run_campaign
from orchestration.sender.schedule import format_instant

STARTS_AT_ONCE = ("Confirming starts the send at once, as a run of the send job in Dagster (its own process, "
                  "listed in the Dagster UI); follow it on the Campaigns page.")


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
        ui.record_test_send(tenant, campaign.campaign_id)
        row = delivery_log(ui.ledger(), tenant, campaign.campaign_id).iloc[0]
        if summary.sent:
            st.success(f"Test message sent to {row['phone_e164']} (message {row['message_sid']}).",
                       icon=":material/check_circle:")
        elif row["state"] == "skipped":
            st.warning(f"Not sent: {row['phone_e164']} is on the suppression list.", icon=":material/block:")
        else:
            reason = row["last_error_message"] or summary.pause_reason or "no answer from the provider"
            meaning = error_meaning(int(row["last_error_code"])) if pd.notna(row["last_error_code"]) else None
            code = (f" (error {row['last_error_code']}{': ' + meaning if meaning else ''})"
                    if pd.notna(row["last_error_code"]) else "")
            st.error(f"The test message was not sent{code}: {reason}", icon=":material/error:")

    ui.attempt("sending the test message", send)


def typed_people(text: str) -> list[tuple[str, str, str]]:
    """Lines of 'number' or 'number, name' as (where, number, name), `where` naming the line ('line 3')."""
    people = []
    for number_, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            number, _, name = line.partition(",")
            people.append((f"line {number_}", number.strip(), name.strip()))
    return people


def uploaded_people(upload) -> list[tuple[str, str, str]]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / (Path(upload.name).name or "numbers.csv")
        path.write_bytes(upload.getvalue())
        people = read_people_csv(path)
    if not people:
        raise UserError(f"{upload.name} has no phone numbers under its phone column.")
    return [(f"row {row}", number, name) for row, (number, name) in enumerate(people, start=1)]


def checked_people(rows: list[tuple[str, str, str]], region: str) -> dict:
    """The list as it will be sent: valid numbers once each (the first line's name), the lines skipped as not
    phone numbers and the duplicates merged, each with where it was."""
    first_at: dict[str, str] = {}
    people, bad, merged = [], [], []
    for where, raw, name in rows:
        phone = normalize_phone(raw, region)
        if phone is None:
            bad.append((where, raw))
        elif phone in first_at:
            merged.append((where, first_at[phone]))
        else:
            first_at[phone] = where
            people.append((phone, name))
    if not people:
        raise UserError("No valid phone number in the list (region " + region + "): "
                        + ", ".join(f"{where} {raw!r}" for where, raw in bad[:10]) + ".")
    unit = "lines" if rows and rows[0][0].startswith("line") else "rows"
    summary = (f"{len(rows)} {unit}: {len(people)} number{'s' if len(people) != 1 else ''}"
               + (f", {len(merged)} duplicate{'s' if len(merged) != 1 else ''} merged ("
                  + ", ".join(where for where, _ in merged[:10]) + ")" if merged else "")
               + (f", {len(bad)} skipped (not a phone number)" if bad else ""))
    return {"people": people, "bad": bad, "merged": merged, "summary": summary}


def unfilled_shortcodes(body: str, frame: pd.DataFrame, company: dict) -> list[tuple[str, int]]:
    """(shortcode, recipients it has no value for) of the shortcodes used without a fallback that some manual
    recipient cannot fill (no name typed, no appointment, ...)."""
    empty = []
    for code in shortcodes_without_fallback(body):
        values = render_many(f"{{{code}}}", frame, company)
        if (values == "").any():
            empty.append((code, int((values == "").sum())))
    return empty


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
    st.caption(STARTS_AT_ONCE)
    if st.button("Review manual send", icon=":material/fact_check:", key="snd_manual_review"):
        st.session_state.pop("snd_manual_pending", None)

        def review() -> None:
            region = ui.region(tenant)
            checked = checked_people(uploaded_people(upload) if upload is not None else typed_people(text), region)
            frame = people_frame(checked["people"], region)
            company = ui.company(tenant)
            bodies = render_many(body, frame, company)
            segments = count_segments_many(bodies)["segments"]
            estimate = CostEstimate(tenant_price(ui.ledger(), tenant))
            estimate.add(frame["phone_e164"], segments)
            st.session_state["snd_manual_pending"] = {
                **checked, "name": name, "estimate": estimate, "body": body,
                "unfilled": unfilled_shortcodes(body, frame, company),
                "messages": pd.DataFrame({"To": frame["phone_e164"], "Name": frame["full_name"],
                                          "Message": bodies, "SMS": segments}),
            }
        ui.attempt("reading the numbers", review)
    pending = st.session_state.get("snd_manual_pending")
    if pending and pending["body"] == body:
        manual_review(tenant, body, pending)


def manual_review(tenant: int, body: str, pending: dict) -> None:
    """What the manual send will do: the list as read, every recipient's message, and the confirm step (or why
    it cannot be sent)."""
    st.markdown(f"**{pending['summary']}**")
    if pending["bad"]:
        st.warning("Skipped, not a valid phone number: " + "; ".join(
            f"{where}: {raw!r}" for where, raw in pending["bad"][:20]) + (" …" if len(pending["bad"]) > 20 else ""),
            icon=":material/warning:")
    if pending["merged"]:
        st.info("Sent once: " + "; ".join(f"{where} repeats {first}" for where, first in pending["merged"][:20]),
                icon=":material/merge:")
    st.markdown("**What each recipient will receive**")
    st.dataframe(pending["messages"], hide_index=True, width="stretch",
                 height=min(38 + 35 * len(pending["messages"]), 280),
                 column_config={"Message": st.column_config.TextColumn("Message", width="large"),
                                "SMS": st.column_config.NumberColumn("SMS", help="SMS segments (billed)")})
    if pending["unfilled"]:
        total = len(pending["people"])
        st.error("Not sent: " + "; ".join(
            f"{{{code}}} has no value for {n} of {total} recipients" for code, n in pending["unfilled"])
            + ". A manual recipient has only a number and the name typed; write a fallback, e.g. "
            + f"{{{pending['unfilled'][0][0]}|there}}, or leave the shortcode out (on the Compose page).",
            icon=":material/edit_note:")
        return
    confirm(f"{ui.number(len(pending['people']))} numbers", pending["estimate"],
            on_confirm=lambda: launch_manual(tenant, body, pending), key="snd_manual")


def launch_manual(tenant: int, body: str, pending: dict) -> None:
    campaign = send_manual(ui.ledger(), tenant, pending["people"], body, pending["name"], warehouse=ui.warehouse())
    st.session_state.pop("snd_manual_pending", None)
    launched(tenant, campaign)


def campaign_send(tenant: int, body: str) -> None:
    query = ui.chosen_audience(tenant)
    segment = SEGMENTS[query.segment]
    preview = ui.cached_preview(query, sample=1)
    if preview is None:
        return
    st.write(f"Audience: **{segment.label}** — **{ui.number(preview.count)}** recipients. Change it on the "
             "Audience page.")
    name = st.text_input("Campaign name", key="snd_campaign_name",
                         value=f"{segment.label} — {pd.Timestamp.now(tz='UTC'):%b %d}")
    st.caption(STARTS_AT_ONCE)
    if st.button("Review campaign", icon=":material/fact_check:", type="primary", key="snd_campaign_review"):
        cost = ui.campaign_cost(query, body)
        if cost is not None:
            st.session_state["snd_campaign_pending"] = {"query": query, "name": name, "count": cost[0],
                                                        "estimate": cost[1]}
    pending = st.session_state.get("snd_campaign_pending")
    if pending and pending["query"] == query:
        skipped = preview.on_suppression_list if not query.exclude_suppressed else 0
        confirm(
            f"{ui.number(pending['count'])} recipients",
            pending["estimate"],
            on_confirm=lambda: launch_campaign(tenant, body, pending),
            key="snd_campaign",
            filters=ui.audience_filters(query),
            skipped=skipped or 0,
            notes=gate_notes(preview, ui.tenant_zone(tenant)),
        )


def gate_notes(preview, zone: str | None) -> list[str]:
    """What quiet hours and the frequency cap do to this audience if it is sent now, for the review step."""
    notes = []
    quiet = preview.deferred.get("quiet_hours") or {}
    if quiet.get("count"):
        first, last = (format_instant(quiet[key], zone) for key in ("earliest_send_at", "latest_send_at"))
        until = first if first == last else f"{first} (the last until {last})"
        notes.append(f"{ui.number(quiet['count'])} recipients deferred until {until}: it is outside their "
                     "quiet-hours window in their local time. They stay queued and are sent then.")
    if preview.excluded.get("frequency_cap"):
        notes.append(f"{ui.number(preview.excluded['frequency_cap'])} recipients are at the frequency cap: they "
                     "are skipped at send time (not counted above).")
    return notes


def launch_campaign(tenant: int, body: str, pending: dict) -> None:
    if pending["count"] == 0:
        raise UserError("This audience has no recipients: nothing to send.")
    draft = campaigns.create_campaign(ui.ledger(), tenant, pending["name"], body, pending["query"])
    with st.spinner("Freezing the recipient list…"):
        campaign = campaigns.launch(ui.ledger(), ui.warehouse(), tenant, draft.campaign_id)
    st.session_state.pop("snd_campaign_pending", None)
    launched(tenant, campaign)


def confirm(who: str, estimate: CostEstimate, on_confirm, key: str, filters: list[str] | None = None,
            skipped: int = 0, notes: list[str] | None = None) -> None:
    """The last step before anything goes out: who (every filter of the audience), how many SMS segments, what
    they cost, and two buttons."""
    with st.container(border=True):
        st.markdown("#### Ready to send?")
        if filters:
            st.markdown("\n".join(f"- {line}" for line in filters))
        cols = st.columns(3)
        cols[0].metric("Recipients", who, border=True)
        cols[1].metric("SMS segments (billed)", ui.number(estimate.segments), border=True)
        source = ("the tenant's own price (Settings)" if estimate.tenant_price is not None
                  else f"Twilio's list prices by destination country ({PRICES_DATE}, {PRICES_SOURCE}); "
                       "carrier fees not included")
        cols[2].metric("Estimated cost", ui.money(estimate.usd), border=True, help=f"Segments × {source}.")
        rows = estimate.rows()
        if len(rows) > 1 or estimate.unpriced_segments:
            st.dataframe(pd.DataFrame({
                "Country": [r["region"] if r["region"] != "??" else "Unknown" for r in rows],
                "SMS segments": [r["segments"] for r in rows],
                "Price per segment": [ui.money(r["usd_per_segment"]) if r["usd_per_segment"] is not None
                                      else "no price in the table" for r in rows],
                "Cost": [ui.money(r["usd"]) if r["usd"] is not None else "—" for r in rows],
            }), hide_index=True, width="stretch")
        if estimate.unpriced_segments:
            st.caption(f"{ui.number(estimate.unpriced_segments)} segments go to countries without a price in the "
                       "table: the estimate leaves them out. Set your own price in Settings.")
        left = credits.balance(ui.ledger(), ui.tenant_id())
        if left is not None and estimate.segments > left:
            st.error(f"Not enough SMS credits: this send needs {ui.number(estimate.segments)} segments and "
                     f"{ui.number(left)} are left. Ask your operator to top up; the launch is refused until then.",
                     icon=":material/toll:")
        elif left is not None:
            st.caption(f"SMS credits: {ui.number(left)} segments left; this send uses {ui.number(estimate.segments)} "
                       f"(a failed message is refunded), leaving {ui.number(left - estimate.segments)}.")
        if skipped:
            st.warning(f"{ui.number(skipped)} of these recipients are on the suppression list: they will be "
                       "skipped at send time (not billed).", icon=":material/block:")
        else:
            st.caption("Numbers on the suppression list are skipped at send time.")
        for note in notes or []:
            st.info(note, icon=":material/schedule:")
        go, back = st.columns([1, 1])
        if go.button("Confirm and send", icon=":material/send:", type="primary", key=f"{key}_confirm",
                     width="stretch"):
            ui.attempt("launching the send", on_confirm)
        if back.button("Back", key=f"{key}_back", width="stretch"):
            st.session_state.pop(f"{key}_pending", None)
            st.rerun()


def launched(tenant: int, campaign: campaigns.Campaign) -> None:
    run_id = ui.start_sending(tenant, campaign.campaign_id)
    st.success(f"“{campaign.name}” is sending to {ui.number(campaign.recipient_count)} recipients: Dagster run "
               f"{run_id[:8]} has started.", icon=":material/rocket_launch:")
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
