"""Campaigns: every campaign of the tenant, and a live view of one (progress, rate, ETA, errors, its delivery funnel)
with controls and a resend to the ones that did not get it."""

from __future__ import annotations

from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from console import ui
from orchestration import credits
from orchestration.delivery.funnel import DeliveryFunnel, delivery_funnel
from orchestration.delivery.rules import sender_alert
from orchestration.gateway.errors import error_meaning
from orchestration.sender import campaigns
from orchestration.sender.reports import delivery_log, progress

LIVE = ("queued", "sending")
STATE_BADGES = {
    "draft": ("gray", ":material/draft:"),
    "queued": ("blue", ":material/schedule:"),
    "sending": ("orange", ":material/send:"),
    "paused": ("violet", ":material/pause_circle:"),
    "completed": ("green", ":material/check_circle:"),
    "cancelled": ("red", ":material/cancel:"),
}
KIND_LABELS = {"segment": "Campaign", "manual": "Manual send", "test": "Test"}
REFRESH_S = 2
FUNNEL_STAGES = (  # (funnel field, label, colour)
    ("accepted", "Accepted by Twilio", "#4f6bed"),
    ("delivered", "Delivered", "#2e9e5b"),
    ("undelivered", "Undelivered", "#e8833a"),
    ("failed", "Failed", "#d64545"),
    ("unknown", "Unknown", "#9a9a9a"),
    ("in_flight", "Still in flight", "#8fb3ff"),
)


def badge(state: str) -> None:
    color, icon = STATE_BADGES.get(state, ("gray", None))
    st.badge(state.capitalize(), color=color, icon=icon)


def campaign_table(found: list[campaigns.Campaign]) -> None:
    table = pd.DataFrame(
        {
            "#": [c.campaign_id for c in found],
            "Name": [c.name for c in found],
            "Type": [KIND_LABELS.get(c.kind, c.kind) for c in found],
            "Status": [c.state.capitalize() for c in found],
            "Recipients": [c.recipient_count for c in found],
            "Resend of": [f"#{c.origin_campaign_id}" if c.origin_campaign_id else "" for c in found],
            "Created (UTC)": [c.created_at[:16].replace("T", " ") for c in found],
        }
    )
    st.dataframe(table, hide_index=True, width="stretch", height=min(38 + 35 * len(table), 300))


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def rate_chart(tenant: int, campaign: campaigns.Campaign) -> None:
    sent = delivery_log(ui.ledger(), tenant, campaign.campaign_id, state="sent", limit=50_000)
    if sent.empty or sent["sent_at"].isna().all():
        st.caption("The send-rate chart appears once messages go out.")
        return
    frame = ui.rate_frame(sent["sent_at"])
    clock = alt.Axis(format="%H:%M:%S", formatType="utc", labelOverlap=True)
    line = (
        alt.Chart(frame)
        .mark_area(line={"color": "#4f6bed"}, color="#4f6bed33", interpolate="linear")
        .encode(x=alt.X("time:T", title="Time (UTC)", axis=clock, scale=alt.Scale(type="utc")),
                y=alt.Y("rate:Q", title="Messages per second",
                        scale=alt.Scale(domain=[0, max(campaign.rate_limit_per_s, float(frame["rate"].max()), 1.0)])),
                tooltip=[alt.Tooltip("time:T", title="From (UTC)", format="%H:%M:%S", formatType="utc"),
                         alt.Tooltip("rate:Q", title="Messages/s", format=".1f")])
    )
    limit = campaign.rate_limit_per_s
    if limit > 0:
        line += (alt.Chart(pd.DataFrame({"cap": [limit]}))
                 .mark_rule(color="#9ca3af", strokeDash=[4, 4]).encode(y="cap:Q"))
    st.altair_chart(line.properties(height=220), width="stretch")
    st.caption(f"Each point averages {frame.attrs['bucket_s']} s of sending"
               + (f"; the dashed line is the campaign's cap of {limit:g}/s." if limit > 0 else "."))


def funnel_chart(funnel: DeliveryFunnel) -> None:
    frame = pd.DataFrame({
        "Stage": [label for _, label, _ in FUNNEL_STAGES],
        "Messages": [getattr(funnel, name) for name, _, _ in FUNNEL_STAGES],
    })
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("Stage:N", sort=[label for _, label, _ in FUNNEL_STAGES], title=None),
            x=alt.X("Messages:Q", title="Messages"),
            color=alt.Color("Stage:N", legend=None,
                            scale=alt.Scale(domain=[label for _, label, _ in FUNNEL_STAGES],
                                            range=[colour for _, _, colour in FUNNEL_STAGES])),
            tooltip=["Stage:N", "Messages:Q"],
        )
        .properties(height=200)
    )
    st.altair_chart(chart, width="stretch")


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.1%}"


def delivery_view(tenant: int, campaign_id: int) -> None:
    """The delivery funnel (accepted → delivered / undelivered / failed / unknown / in flight), per sender, by code."""
    funnel = delivery_funnel(ui.ledger(), tenant, campaign_id)
    st.markdown("**Delivery**")
    if alert := sender_alert(ui.ledger(), tenant):  # 30034: every message of the sender is blocked
        st.warning(alert.describe())
    if not funnel.accepted:
        st.caption("The delivery funnel appears once Twilio has accepted messages.")
        return
    cols = st.columns(4)
    cols[0].metric("Delivered", ui.number(funnel.delivered), border=True)
    cols[1].metric("Undelivered", ui.number(funnel.undelivered), border=True)
    cols[2].metric("Delivery rate", percent(funnel.delivery_rate), border=True,
                   help="Delivered of the messages whose status is final.")
    cols[3].metric("Still in flight", ui.number(funnel.in_flight), border=True)
    funnel_chart(funnel)
    if funnel.send_failed:
        st.caption(f"{ui.number(funnel.send_failed)} more never reached Twilio's queue (the send failed).")
    senders, codes = st.columns(2, gap="large")
    with senders:
        st.markdown("**Delivery rate by sender**")
        st.dataframe(pd.DataFrame({
            "Sender": [s.sender for s in funnel.senders],
            "Accepted": [s.accepted for s in funnel.senders],
            "Delivered": [s.delivered for s in funnel.senders],
            "Not delivered": [s.undelivered + s.failed + s.unknown for s in funnel.senders],
            "Delivery rate": [percent(s.delivery_rate) for s in funnel.senders],
        }), hide_index=True, width="stretch")
    with codes:
        st.markdown("**Not delivered, by error code**")
        if funnel.error_codes:
            st.dataframe(pd.DataFrame({
                "Code": [str(c["code"]) for c in funnel.error_codes],
                "Status": [c["status"] for c in funnel.error_codes],
                "Messages": [c["recipients"] for c in funnel.error_codes],
                "Meaning": [c["meaning"] or "" for c in funnel.error_codes],
            }), hide_index=True, width="stretch")
        else:
            st.caption("No delivery errors so far.")


def live_view(tenant: int, campaign_id: int) -> str:
    """Draws the campaign's live figures; returns its state as read now."""
    view = progress(ui.ledger(), tenant, campaign_id)
    status = view.status
    campaign = status.campaign
    counts = status.counts
    total = campaign.recipient_count or sum(counts.values())
    done = counts["sent"] + counts["failed"] + counts["skipped"]
    head, state_col = st.columns([5, 1], vertical_alignment="center")
    head.subheader(campaign.name)
    with state_col:
        badge(campaign.state)
    if campaign.pause_reason and campaign.state == "paused":
        st.warning(f"Paused: {campaign.pause_reason}", icon=":material/pause_circle:")
    st.progress(done / total if total else 0.0, text=f"{ui.number(done)} of {ui.number(total)} done")
    cols = st.columns(5)
    cols[0].metric("Total", ui.number(total), border=True)
    cols[1].metric("Sent", ui.number(counts["sent"]), border=True)
    cols[2].metric("Failed", ui.number(counts["failed"]), border=True)
    cols[3].metric("Pending", ui.number(counts["pending"] + counts["sending"]), border=True)
    cols[4].metric("Skipped", ui.number(counts["skipped"]), border=True)
    cols = st.columns(4)
    if campaign.state in LIVE:
        cols[0].metric("Send rate", f"{view.rate_per_s:.1f}/s", border=True,
                       help=f"Messages accepted per second over the last {view.window_s:.0f} s.")
    else:
        cols[0].metric("Average rate", f"{view.rate_per_s:.1f}/s", border=True,
                       help=f"Messages sent over the {duration(view.window_s)} from the first attempt to the last.")
    cols[1].metric("Time left", duration(view.eta_s) if campaign.state in LIVE else "—", border=True)
    cols[2].metric("Attempts", ui.number(status.attempts), border=True,
                   help=f"{ui.number(status.retries)} of them were retries.")
    cols[3].metric("SMS segments sent", ui.number(status.segments_sent), border=True)
    left = credits.balance(ui.ledger(), tenant)
    if left is not None:
        cost = credits.campaign_cost(ui.ledger(), tenant, campaign_id)
        used = credits.campaign_used(ui.ledger(), tenant, campaign_id)
        st.caption(f"SMS credits: this campaign costs {ui.number(cost)} segments and has used {ui.number(used)} "
                   f"so far; {ui.number(left)} are left for the tenant.")

    errors, sender = st.columns(2, gap="large")
    with errors:
        st.markdown("**Error codes**")
        if status.error_codes:
            st.dataframe(pd.DataFrame({"Error code": list(status.error_codes),
                                       "What it means": [error_meaning(int(c)) or "" if c.isdigit() else ""
                                                         for c in status.error_codes],
                                       "Attempts": list(status.error_codes.values())}),
                         hide_index=True, width="stretch",
                         column_config={"What it means": st.column_config.TextColumn(width="large")})
        else:
            st.caption("No errors so far.")
        if status.skipped_by_reason:
            st.markdown("**Skipped, by reason**")
            st.dataframe(pd.DataFrame({"Reason": list(status.skipped_by_reason),
                                       "Recipients": list(status.skipped_by_reason.values())}),
                         hide_index=True, width="stretch")
    with sender:
        st.markdown("**Sender**")
        st.dataframe(pd.DataFrame({
            "Sender": [view.sender.get("sender") or "not set"],
            "Sent": [view.sender.get("sent", 0)],
            "Segments": [view.sender.get("segments", 0)],
            "Failed": [view.sender.get("failed", 0)],
        }), hide_index=True, width="stretch")
    delivery_view(tenant, campaign_id)
    st.markdown("**Send rate over time**")
    rate_chart(tenant, campaign)
    return campaign.state


def controls(tenant: int, campaign: campaigns.Campaign) -> None:
    actions = [
        ("Pause", ":material/pause:", campaign.state in LIVE, campaigns.pause),
        ("Resume", ":material/play_arrow:", campaign.state == "paused", campaigns.resume),
        ("Cancel", ":material/cancel:", campaign.state in (*LIVE, "paused", "draft"), campaigns.cancel),
    ]
    cols = st.columns([1, 1, 1, 3])
    for col, (label, icon, enabled, action) in zip(cols, actions, strict=False):
        if col.button(label, icon=icon, disabled=not enabled, key=f"cmp_{label.lower()}_{campaign.campaign_id}",
                      width="stretch"):
            done = ui.attempt(f"trying to {label.lower()} the campaign",
                              lambda action=action: action(ui.ledger(), tenant, campaign.campaign_id))
            if done is not None:
                if label == "Resume":
                    ui.start_sending(tenant, campaign.campaign_id)
                st.toast(f"Campaign {label.lower()}{'d' if label != 'Cancel' else 'led'}: now {done.state}.")
                st.rerun()


def show(campaign_id: int) -> None:
    ui.focus_campaign(campaign_id)


def origin_link(tenant: int, campaign: campaigns.Campaign) -> None:
    if not campaign.origin_campaign_id:
        return
    origin = ui.attempt("reading the origin campaign",
                        lambda: campaigns.get_campaign(ui.ledger(), tenant, campaign.origin_campaign_id))
    if origin is None:
        return
    text, link = st.columns([5, 1], vertical_alignment="center")
    text.info(f"A resend of campaign #{origin.campaign_id} · {origin.name} to the ones that did not get it.",
              icon=":material/replay:")
    link.button(f"Open #{origin.campaign_id}", key=f"cmp_origin_{campaign.campaign_id}", width="stretch",
                on_click=show, args=(origin.campaign_id,))


def resend_form(tenant: int, campaign: campaigns.Campaign) -> None:
    """Choose who did not get it and, optionally, a new text; the new campaign is queued, sent and shown."""
    with st.expander("Resend to the ones that did not get it", icon=":material/replay:"):
        key = campaign.campaign_id
        chosen = st.multiselect(
            "Who", list(campaigns.RESEND_OUTCOMES), default=list(campaigns.DEFAULT_RESEND),
            key=f"cmp_resend_only_{key}", help="; ".join(f"{k}: {v}" for k, v in campaigns.RESEND_OUTCOMES.items()),
        )
        text = st.text_area(
            "New text (optional)", key=f"cmp_resend_text_{key}",
            placeholder="Leave empty to send each one the same message again.",
            help="It may use " + ", ".join(f"{{{c}}}" for c in campaigns.RESEND_SHORTCODES)
            + " and the {company_*} shortcodes.",
        )
        st.caption("Anyone suppressed since, and numbers that cannot receive SMS, are left out.")
        if st.button("Resend", icon=":material/send:", key=f"cmp_resend_{key}", type="primary"):
            made = ui.attempt("creating the resend", lambda: campaigns.resend(
                ui.ledger(), tenant, campaign.campaign_id, tuple(chosen), text.strip() or None,
                company=ui.company(tenant) if text.strip() else None))
            if made is not None:
                ui.start_sending(tenant, made.campaign_id)
                show(made.campaign_id)
                st.toast(f"Campaign #{made.campaign_id} queued for {ui.number(made.recipient_count)} recipients.")
                st.rerun()


tenant = ui.tenant_id()
ui.page_header("Campaigns", "Everything sent from this tenant, and how each send is going.")
found = ui.attempt("listing the campaigns", lambda: campaigns.list_campaigns(ui.ledger(), tenant))
if found is not None and not found:
    st.info("No campaigns yet. Start one on the Send page.", icon=":material/campaign:")
    st.page_link("views/send.py", label="Go to Send", icon=":material/send:")
elif found:
    campaign_table(found)
    chosen = ui.pick_campaign(found)
    campaign = next(c for c in found if c.campaign_id == chosen)
    controls(tenant, campaign)
    origin_link(tenant, campaign)
    if campaign.state != "draft":
        resend_form(tenant, campaign)
    every = timedelta(seconds=REFRESH_S) if campaign.state in LIVE else None

    @st.fragment(run_every=every)
    def live() -> None:
        state = ui.attempt("reading the campaign's progress", lambda: live_view(tenant, chosen))
        if state is not None and state != campaign.state:  # finished or paused: refresh the buttons too
            st.rerun()

    live()
