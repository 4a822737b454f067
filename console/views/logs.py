"""Delivery log: one row per recipient of a campaign, filtered by status, error code and phone, with CSV export."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from console import ui
from orchestration.gateway.errors import error_meaning
from orchestration.sender import campaigns
from orchestration.sender.manual import normalize_phone
from orchestration.sender.reports import RECIPIENT_STATES, delivery_log, status

ROWS_SHOWN = 1000
COLUMNS = {
    "recipient_id": "#",
    "phone_e164": "Phone",
    "full_name": "Name",
    "state": "Status",
    "attempts": "Attempts",
    "last_error_code": "Error code",
    "error_meaning": "What it means",
    "last_error_message": "Twilio's message",
    "skip_reason": "Skipped because",
    "message_sid": "Message SID",
    "segments": "Segments",
    "sent_at": "Sent at (UTC)",
    "delivery_status": "Delivery",
    "body": "Message",
}
COLUMN_CONFIG = {
    "#": st.column_config.NumberColumn("#", width="small"),
    "Phone": st.column_config.TextColumn("Phone", width="medium"),
    "Error code": st.column_config.TextColumn("Error code", width="small", help="Twilio's error code"),
    "What it means": st.column_config.TextColumn("What it means", width="large",
                                                 help="The code's meaning, from the sender's table of Twilio codes"),
    "Twilio's message": st.column_config.TextColumn("Twilio's message", width="large"),
    "Skipped because": st.column_config.TextColumn("Skipped because", width="medium"),
    "Message SID": st.column_config.TextColumn("Message SID", width="medium"),
    "Message": st.column_config.TextColumn("Message", width="large"),
}


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """The log as shown: codes with their meanings, times as text, and empty cells empty (never "None")."""
    shown = frame.copy()
    shown["error_meaning"] = [error_meaning(int(c)) or "" if pd.notna(c) else "" for c in shown["last_error_code"]]
    shown["last_error_code"] = shown["last_error_code"].astype("string").fillna("")
    shown["sent_at"] = shown["sent_at"].dt.strftime("%Y-%m-%d %H:%M:%S").fillna("")
    for column in ("full_name", "skip_reason", "last_error_message", "message_sid", "delivery_status", "body"):
        if column in shown:
            shown[column] = shown[column].astype("object").where(shown[column].notna(), "")
    shown = shown[[c for c in COLUMNS if c in shown.columns]].rename(columns=COLUMNS)
    return shown


def filtered_log(tenant: int, campaign_id: int, state: str | None, code: str | None, phone: str) -> pd.DataFrame:
    exact = normalize_phone(phone, ui.region(tenant)) if phone.strip() else None
    narrowed_here = bool(code) or (bool(phone.strip()) and exact is None)  # filters the ledger query lacks
    frame = delivery_log(ui.ledger(), tenant, campaign_id, state=state, phone=exact,
                         limit=1_000_000 if narrowed_here else ROWS_SHOWN)
    if code:
        frame = frame[frame["last_error_code"].astype("string") == code]
    if phone.strip() and exact is None:
        digits = "".join(ch for ch in phone if ch.isdigit())
        frame = frame[frame["phone_e164"].str.contains(digits or phone.strip(), regex=False)]
    return frame.head(ROWS_SHOWN)


tenant = ui.tenant_id()
ui.page_header("Delivery log", "Who got the message, who did not, and why.")
found = ui.attempt("listing the campaigns", lambda: campaigns.list_campaigns(ui.ledger(), tenant))
if found is not None and not found:
    st.info("No campaigns yet: the log fills in as soon as something is sent.", icon=":material/receipt_long:")
elif found:
    chosen = ui.pick_campaign(found)
    ui.rerun_when_it_stops(tenant, next(c for c in found if c.campaign_id == chosen))
    codes = ui.attempt("reading the error codes", lambda: list(status(ui.ledger(), tenant, chosen).error_codes))

    def code_label(code: str | None) -> str:
        if code is None:
            return "All"
        meaning = error_meaning(int(code)) if code.isdigit() else None
        return f"{code} — {meaning}" if meaning else code

    cols = st.columns([1, 1, 2])
    state = cols[0].selectbox("Status", [None, *RECIPIENT_STATES], key="log_state",
                              format_func=lambda s: "All" if s is None else s.capitalize())
    code = cols[1].selectbox("Error code", [None, *(codes or [])], key="log_code",
                             format_func=code_label)
    phone = cols[2].text_input("Phone", key="log_phone", placeholder="Search a number, e.g. +1555 or 0100")
    log = ui.attempt("reading the delivery log", lambda: filtered_log(tenant, chosen, state, code, phone))
    if log is not None:
        shown = readable(log)
        st.caption(f"{ui.number(len(shown))} recipients shown" + (" (the first 1,000)" if len(shown) ==
                                                                     ROWS_SHOWN else ""))
        st.dataframe(shown, hide_index=True, width="stretch", height=420, column_config=COLUMN_CONFIG)
    csv = ui.attempt("preparing the CSV export", lambda: ui.delivery_log_csv(tenant, chosen))
    if csv is not None:
        st.download_button(
            "Download the whole log (CSV)", data=csv, file_name=f"campaign-{chosen}-delivery-log.csv",
            mime="text/csv", icon=":material/download:", key="log_download",
            help="Same file as `bkntc-sms logs export`; cells that would run as spreadsheet formulas are escaped.",
        )
