"""Audience: pick a ready segment, narrow it with filters, and see who a campaign would reach."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from console import ui
from orchestration.audiences import SEGMENTS, AudienceQuery

EXCLUSION_LABELS = {
    "no_phone": "No phone number",
    "invalid_phone": "Invalid phone number",
    "duplicate_phone": "Shares a number (sent once)",
    "suppressed": "On the suppression list",
    "undeliverable": "Undeliverable (Twilio 30005/30006)",
    "frequency_cap": "At the frequency cap (skipped at send time)",
}
CUSTOM = "Custom…"


def parameter_input(tenant: int, segment_name: str) -> dict[str, int]:
    """The segment's day/minimum choice as a pill group, with a number box when 'Custom…' is picked."""
    parameter = SEGMENTS[segment_name].parameter
    if parameter is None:
        return {}
    unit = "days" if parameter.name == "days" else "appointments or more"
    labels = {f"{value} {unit}" if parameter.name == "days" else f"{value}+ appointments": value
              for value in parameter.choices}
    options = list(labels) + ([CUSTOM] if parameter.custom else [])
    key = f"aud_param_{segment_name}"
    ui.remember(key, next(k for k, v in labels.items() if v == parameter.default))
    if st.session_state[key] not in options:
        st.session_state[key] = options[0]
    title = "Window" if parameter.name == "days" else "Minimum appointments"
    picked = st.segmented_control(title, options, key=key, required=True)
    ui.keep(key)
    if picked == CUSTOM:
        custom_key = f"aud_custom_{segment_name}"
        ui.remember(custom_key, parameter.default)
        value = st.number_input(
            f"Custom {parameter.name}", min_value=1, max_value=3650, step=1, key=custom_key,
            help=parameter.help,
        )
        ui.keep(custom_key)
        return {parameter.name: int(value)}
    return {parameter.name: labels[picked]}


def build_query(tenant: int) -> AudienceQuery | None:
    ui.remember("aud_segment", "recent_bookers")
    segment_name = st.selectbox(
        "Segment", list(SEGMENTS), key="aud_segment", format_func=lambda name: SEGMENTS[name].label,
    )
    ui.keep("aud_segment")
    st.caption(SEGMENTS[segment_name].description)
    params = parameter_input(tenant, segment_name)

    options = ui.cached_filter_options(tenant)
    if options is None:
        return None
    services = dict(zip(options.services["service_id"], options.services["name"], strict=True))
    locations = dict(zip(options.locations["location_id"], options.locations["name"], strict=True))
    with st.expander("Filters", icon=":material/filter_alt:", expanded=True):
        for key in ("aud_services", "aud_locations", "aud_statuses"):
            ui.remember(key, [])
        st.session_state["aud_services"] = [s for s in st.session_state["aud_services"] if s in services]
        st.session_state["aud_locations"] = [s for s in st.session_state["aud_locations"] if s in locations]
        st.session_state["aud_statuses"] = [s for s in st.session_state["aud_statuses"] if s in options.statuses]
        service_ids = st.multiselect("Services", list(services), key="aud_services",
                                     format_func=lambda i: services[i], placeholder="All services")
        location_ids = st.multiselect("Locations", list(locations), key="aud_locations",
                                      format_func=lambda i: locations[i], placeholder="All locations")
        statuses = st.multiselect("Appointment statuses", options.statuses, key="aud_statuses",
                                  format_func=lambda s: s.replace("_", " ").capitalize(),
                                  placeholder="All statuses")
        ui.remember("aud_min_appointments", 0)
        min_appointments = st.number_input(
            "Minimum appointments", min_value=0, max_value=10_000, step=1, key="aud_min_appointments",
            help="Counted among the appointments that match the filters above. 0 = no minimum.",
        )
        ui.remember("aud_exclude_suppressed", True)
        exclude = st.toggle("Exclude the suppression list", key="aud_exclude_suppressed")
        ui.keep("aud_services", "aud_locations", "aud_statuses", "aud_min_appointments", "aud_exclude_suppressed")
    return AudienceQuery(
        tenant_id=tenant, segment=segment_name, **params,
        service_ids=tuple(service_ids), location_ids=tuple(location_ids), statuses=tuple(statuses),
        min_appointments=int(min_appointments) or None, exclude_suppressed=exclude,
    )


def show_preview(query: AudienceQuery) -> None:
    preview = ui.cached_preview(query)
    if preview is None:
        return
    st.session_state["audience_query"] = query
    total_excluded = sum(preview.excluded.values())
    cols = st.columns(3)
    cols[0].metric("Recipients", ui.number(preview.count), border=True,
                   help="Distinct valid phone numbers that would get the message.")
    cols[1].metric("Excluded", ui.number(total_excluded), border=True)
    cols[2].metric("Members in segment", ui.number(preview.count + total_excluded), border=True)

    excluded = pd.DataFrame(
        {"Reason": [EXCLUSION_LABELS[r] for r in preview.excluded], "Customers": list(preview.excluded.values())}
    )
    st.markdown("**Excluded, by reason**")
    st.dataframe(excluded, hide_index=True, width="stretch")
    for warning in preview.warnings:
        st.warning(warning, icon=":material/info:")
    if preview.on_suppression_list and not query.exclude_suppressed:
        st.warning(f"{ui.number(preview.on_suppression_list)} of these recipients are on the suppression list: "
                   "they will be skipped at send time (turn on “Exclude the suppression list” to leave them out "
                   "of the count).", icon=":material/block:")

    st.markdown(f"**Sample** — the first {len(preview.sample)} recipients by customer id")
    sample = preview.sample[[c for c in ui.SAMPLE_COLUMNS if c in preview.sample.columns]].copy()
    if "anchor_starts_at" in sample:
        sample["anchor_starts_at"] = pd.to_datetime(sample["anchor_starts_at"], unit="s", utc=True).dt.strftime(
            "%Y-%m-%d %H:%M")
    sample = sample.astype("object").where(sample.notna(), "")  # empty cells, never "None"
    st.dataframe(sample.rename(columns=ui.SAMPLE_COLUMNS), hide_index=True, width="stretch",
                 column_config={"Customer": st.column_config.NumberColumn(width="small"),
                                "Email": st.column_config.TextColumn(width="medium"),
                                "Appointment (UTC)": st.column_config.TextColumn(width="medium")})


def show_sizes(tenant: int) -> None:
    sizes = ui.cached_segment_sizes(tenant)
    if sizes is None:
        return
    chart = (
        alt.Chart(sizes)
        .mark_bar(cornerRadiusEnd=4, color="#4f6bed")
        .encode(
            x=alt.X("recipients:Q", title="Recipients (default window, no filters)"),
            y=alt.Y("label:N", sort="-x", title=None),
            tooltip=[alt.Tooltip("label:N", title="Segment"), alt.Tooltip("recipients:Q", title="Recipients",
                                                                          format=",")],
        )
        .properties(height=260)
    )
    st.altair_chart(chart, width="stretch")


tenant = ui.tenant_id()
ui.page_header("Audience", "Choose who gets the message. Counts update as you change the filters.")
if ui.require_warehouse():
    left, right = st.columns([2, 3], gap="large")
    with left:
        query = build_query(tenant)
    with right:
        if query is not None:
            show_preview(query)
    st.subheader("Segment sizes")
    show_sizes(tenant)
