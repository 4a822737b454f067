"""Users: the tenant's admins and analysts (add, disable, enable) and whether its analysts may launch."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from console import ui
from orchestration.auth import users

tenant = ui.tenant_id()
ui.page_header("Users", "Who signs in to this tenant's console, and what analysts may do.")
listed = ui.attempt("listing the users", lambda: users.list_users(ui.ledger(), tenant)) or []
left, right = st.columns([3, 2], gap="large")
with left:
    st.dataframe(pd.DataFrame({"Email": [u.email for u in listed], "Role": [u.role for u in listed],
                               "State": ["disabled" if u.disabled else "active" for u in listed]}),
                 hide_index=True, width="stretch")
    may_launch = ui.attempt("reading the analysts' rights", lambda: users.analysts_may_launch(ui.ledger(), tenant))
    allowed = st.toggle("Analysts may launch campaigns and manual sends", value=bool(may_launch), key="usr_may_launch",
                        help="Test sends they always may; launching, resuming and cancelling only with this on.")
    if allowed != bool(may_launch) and ui.attempt(
            "saving the analysts' rights", lambda: users.set_analysts_may_launch(ui.ledger(), tenant, allowed) or True):
        st.success("Saved.", icon=":material/check_circle:")
with right:
    with st.form("usr_add_form", clear_on_submit=True):
        st.markdown("**Add a user**")
        email = st.text_input("Email", key="usr_add_email")
        role = st.selectbox("Role", ["analyst", "admin"], key="usr_add_role")
        password = st.text_input("Password (at least 10 characters)", type="password", key="usr_add_password")
        if st.form_submit_button("Add", icon=":material/person_add:", type="primary", key="usr_add"):
            added = ui.attempt("adding the user", lambda: users.add_user(ui.ledger(), email, role, tenant, password))
            if added is not None:
                st.success(f"{added.email} can sign in as {added.role}.", icon=":material/check_circle:")
    if listed:
        who = st.selectbox("User", [u.email for u in listed], key="usr_pick")
        cols = st.columns(2)
        for col, label, disabled in ((cols[0], "Disable", True), (cols[1], "Enable", False)):
            if col.button(label, key=f"usr_{label.lower()}", width="stretch") and ui.attempt(
                    f"{label.lower()[:-1]}ing the user", lambda d=disabled: users.set_disabled(ui.ledger(), who, d)):
                st.success(f"{who} {'is disabled: signed out at the next click' if disabled else 'may sign in'}.")
