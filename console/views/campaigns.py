"""Campaigns: every campaign of the tenant, and a live view of one (progress, rate, ETA, errors) with controls."""

from __future__ import annotations

from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from console import ui
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
    every = timedelta(seconds=REFRESH_S) if campaign.state in LIVE else None

    @st.fragment(run_every=every)
    def live() -> None:
        state = ui.attempt("reading the campaign's progress", lambda: live_view(tenant, chosen))
        if state is not None and state != campaign.state:  # finished or paused: refresh the buttons too
            st.rerun()

    live()
