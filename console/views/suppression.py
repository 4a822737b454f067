"""Suppression list: numbers that never get a message; add, remove, search, import a CSV, export."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from console import ui
from orchestration.ledger.suppression import SuppressionList

SHOWN = 500
SOURCE_LABELS = {"manual": "Added by hand", "import": "Imported", "provider_opt_out": "Replied STOP",
                 "inbound": "Replied STOP (inbound)"}


def add_remove(suppression: SuppressionList) -> None:
    with st.form("sup_add_form", clear_on_submit=True):
        st.markdown("**Add a number**")
        number = st.text_input("Phone number", key="sup_add_phone", placeholder="+1 555 010 0000")
        reason = st.text_input("Reason (optional)", key="sup_add_reason", placeholder="Asked not to be texted")
        if st.form_submit_button("Add to the list", icon=":material/block:", type="primary", key="sup_add"):
            added = ui.attempt("adding the number", lambda: suppression.add(number, reason))
            if added is not None:
                ui.clear_reads()
                if added:
                    st.success(f"{suppression.normalize(number)} will not get any message.",
                               icon=":material/check_circle:")
                else:
                    st.info(f"{suppression.normalize(number)} was already on the list.")
    with st.form("sup_remove_form", clear_on_submit=True):
        st.markdown("**Remove a number**")
        number = st.text_input("Phone number", key="sup_remove_phone", placeholder="+1 555 010 0000")
        if st.form_submit_button("Remove from the list", icon=":material/remove_circle:", key="sup_remove"):
            removed = ui.attempt("removing the number", lambda: suppression.remove(number))
            if removed is not None:
                ui.clear_reads()
                if removed:
                    st.success(f"{suppression.normalize(number)} can get messages again.",
                               icon=":material/check_circle:")
                else:
                    st.info(f"{suppression.normalize(number)} was not on the list.")


def import_export(suppression: SuppressionList, tenant: int) -> None:
    with st.container(border=True):
        st.markdown("**Import a CSV**")
        st.caption("One number per row; a header naming the phone column (phone, number, mobile) is optional, "
                   "and a `reason` column is kept.")
        upload = st.file_uploader("CSV file", type=["csv", "txt"], key="sup_import_file")
        reason = st.text_input("Reason for these numbers", key="sup_import_reason", placeholder="Imported list")
        if st.button("Import", icon=":material/upload:", disabled=upload is None, key="sup_import"):
            report = ui.attempt("importing the file", lambda: suppression.import_csv(upload.getvalue(), reason))
            if report is not None:
                ui.clear_reads()
                cols = st.columns(3)
                cols[0].metric("Added", ui.number(report.added), border=True)
                cols[1].metric("Duplicates", ui.number(report.already_present + report.duplicates_in_file),
                               border=True, help=f"{report.already_present} already on the list, "
                                                 f"{report.duplicates_in_file} repeated in the file.")
                cols[2].metric("Invalid", ui.number(len(report.invalid)), border=True)
                if report.invalid:
                    st.warning("Rows that are not phone numbers (line: cell): " + ", ".join(
                        f"{line}: {cell!r}" for line, cell in report.invalid[:10])
                        + (" …" if len(report.invalid) > 10 else ""), icon=":material/warning:")
    st.download_button(
        "Export the list (CSV)", data=lambda: suppression.export_csv().encode("utf-8"),
        file_name=f"suppression-tenant-{tenant}.csv", mime="text/csv", icon=":material/download:",
        key="sup_export",
    )


def listing(suppression: SuppressionList) -> None:
    search = st.text_input("Search", key="sup_search", placeholder="Part of a number or a reason",
                           label_visibility="collapsed")
    entries = ui.attempt("searching the list", lambda: suppression.entries(search, limit=SHOWN))
    if entries is None:
        return
    total = suppression.count()
    st.caption(f"{ui.number(len(entries))} shown of {ui.number(total)} suppressed numbers")
    frame = pd.DataFrame(
        {
            "Phone": [e.phone_e164 for e in entries],
            "Reason": [e.reason for e in entries],
            "Source": [SOURCE_LABELS.get(e.source, e.source) for e in entries],
            "Message SID": [e.source_sid or "" for e in entries],
            "Added (UTC)": [e.added_at[:16].replace("T", " ") for e in entries],
        }
    )
    st.dataframe(frame, hide_index=True, width="stretch", height=420)


tenant = ui.tenant_id()
ui.page_header("Suppression list", "Numbers here never get a message from any campaign of this tenant.")
suppression = SuppressionList(ui.ledger(), tenant)
left, right = st.columns([3, 2], gap="large")
with right:  # first: an add or an import made on this run shows in the listing's count below
    add_remove(suppression)
    import_export(suppression, tenant)
with left:
    listing(suppression)
