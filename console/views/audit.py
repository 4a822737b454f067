"""Audit log: who did what, when, to which object — an admin sees its tenant's, an operator every tenant's;
filtered by kind of action, person and date, exported as CSV."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from console import ui
from orchestration.auth import audit
from orchestration.auth.permissions import allows

SHOWN = 1000
FAMILIES = {None: "Everything", "campaign": "Campaigns", "send": "Manual and test sends",
            "suppression": "Suppression list", "credentials": "Credentials", "settings": "Settings",
            "user": "Users and sign-ins"}
COLUMNS = {"at": "When (UTC)", "actor": "Who", "tenant_id": "Tenant", "action": "What", "object": "To",
           "detail": "Detail"}

tenant = ui.tenant_id()
user = ui.signed_in_user()
ui.page_header("Audit log", "Every launch, pause, send, suppression and settings change, and every sign-in.")
if not allows(user.as_actor(), "audit.view", tenant):
    st.error("Only the tenant's admins see its audit log.", icon=":material/lock:")
    st.stop()
cols = st.columns([2, 2, 2, 2])
family = cols[0].selectbox("Kind", list(FAMILIES), format_func=FAMILIES.get, key="aud_log_family")
actor = cols[1].text_input("Who", key="aud_log_actor", placeholder="an email, or cli:<user>")
since = cols[2].date_input("Since", value=date.today() - timedelta(days=30), key="aud_log_since")
every = user.role == "operator" and cols[3].toggle(
    "Every tenant", key="aud_log_every", help="Also rows of no tenant: operator accounts, failed sign-ins.")
rows = ui.attempt("reading the audit log", lambda: audit.entries(
    ui.ledger(), None if every else tenant, action=family, actor=actor.strip().lower() or None,
    since=since.isoformat() if since else None, limit=100_000))
if rows is not None:
    st.caption(f"{ui.number(len(rows))} entries" + (f" (the newest {SHOWN:,} shown)" if len(rows) > SHOWN else ""))
    st.dataframe(rows.head(SHOWN)[list(COLUMNS)].rename(columns=COLUMNS), hide_index=True, width="stretch",
                 height=460)
    st.download_button(
        "Download these entries (CSV)", data=audit.to_csv(rows).encode("utf-8"),
        file_name=f"audit-{'all-tenants' if every else f'tenant-{tenant}'}.csv", mime="text/csv",
        icon=":material/download:", key="aud_log_download",
        help="Same columns as `bkntc-sms audit export`; cells that would run as spreadsheet formulas are escaped.")
