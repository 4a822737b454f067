"""Recurring: campaigns made at each time of a schedule (the audience of the Audience page, the Compose message)."""

from __future__ import annotations

import time
from dataclasses import replace

import pandas as pd
import streamlit as st

from console import ui
from orchestration.audiences import SEGMENTS
from orchestration.recurring import definitions
from orchestration.recurring.definitions import parse_schedule
from orchestration.sender.schedule import format_instant
from orchestration.tenants import get_settings

SPEC_HELP = ("'day at 10:00', 'weekday at 9:30', 'monday' (10:00), or five cron fields such as '0 10 * * *' in the "
             "time zone below.")


def add_form(tenant: int) -> None:
    query = replace(ui.chosen_audience(tenant), as_of=None)
    body = st.session_state.get(ui.MESSAGE, "")
    with st.form("rec_add_form"):
        st.markdown("**Add a recurring campaign**")
        st.caption(f"Audience: {', '.join(ui.audience_filters(query))} (change it on the Audience page; each "
                   "time, the windows are counted from that moment). Message: the one on the Compose page.")
        name = st.text_input("Name", key="rec_name", placeholder="Appointment reminder")
        schedule = st.text_input("Every", key="rec_schedule", value="day at 10:00", help=SPEC_HELP)
        zone = st.text_input("Time zone", key="rec_zone", value=get_settings(ui.ledger(), tenant).timezone or "",
                             placeholder="America/New_York")
        if st.form_submit_button("Add", icon=":material/event_repeat:", type="primary", key="rec_add"):
            def add() -> definitions.RecurringCampaign:
                text = schedule.strip()
                cron = parse_schedule(cron=text) if text[:1].isdigit() or text[:1] == "*" else \
                    parse_schedule(every=text)
                return definitions.add(ui.ledger(), tenant, name, cron, query, body, timezone=zone.strip() or None)
            added = ui.attempt("adding the recurring campaign", add)
            if added is not None:
                st.success(f"“{added.name}” first runs {format_instant(added.next_at(time.time()), added.timezone)}.",
                           icon=":material/check_circle:")


def listing(tenant: int) -> None:
    found = ui.attempt("reading the recurring campaigns", lambda: definitions.list_recurring(ui.ledger(), tenant))
    if not found:
        st.info("No recurring campaign yet.", icon=":material/event_repeat:")
        return
    now = time.time()
    st.dataframe(pd.DataFrame({
        "Id": [f.recurring_id for f in found],
        "Name": [f.name for f in found],
        "Audience": [SEGMENTS[f.audience["segment"]].label for f in found],
        "Schedule": [f"{f.cron} ({f.timezone})" for f in found],
        "State": [f.state for f in found],
        "Next": [format_instant(f.next_at(max(now, f.evaluated_at)), f.timezone) if f.state == "active" else "—"
                 for f in found],
        "Last campaign": [f"#{f.last_campaign_id} ({f.last_campaign_state})" if f.last_campaign_id else "—"
                          for f in found],
    }), hide_index=True, width="stretch")
    chosen = st.selectbox("Recurring campaign", [f.recurring_id for f in found], key="rec_chosen",
                          format_func=lambda i: next(f"#{f.recurring_id} {f.name}" for f in found
                                                     if f.recurring_id == i))  # fmt: skip
    state = next(f.state for f in found if f.recurring_id == chosen)
    cols = st.columns([1, 1, 1, 3])
    for col, (label, action, enabled) in zip(cols, [("Pause", definitions.pause, state == "active"),
                                                    ("Resume", definitions.resume, state == "paused"),
                                                    ("Remove", definitions.remove, True)], strict=False):
        if col.button(label, key=f"rec_{label.lower()}", disabled=not enabled, width="stretch"):
            if ui.attempt(f"trying to {label.lower()} it", lambda a=action: a(ui.ledger(), tenant, chosen)):
                st.rerun()


tenant = ui.tenant_id()
ui.page_header("Recurring", "A campaign at each time of a schedule; nobody gets it twice for the same appointment.")
left, right = st.columns([3, 2], gap="large")
with right:
    add_form(tenant)
with left:
    listing(tenant)
