"""The console's entry point: page setup, sign-in before any page, the signed-in user's tenant in the sidebar,
and the multipage navigation (the pages a role may open; any other path is not served)."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:  # `streamlit run console/app.py` puts only console/ on the path
    sys.path.insert(0, str(PROJECT_ROOT))

from console import ui  # noqa: E402
from orchestration.auth.actor import acting_as  # noqa: E402
from orchestration.auth.sessions import Session  # noqa: E402

PAGES = Path(__file__).parent / "views"  # not "pages/": that name switches Streamlit to its v1 multipage mode
ADMIN_ROLES = ("operator", "admin")

st.set_page_config(
    page_title="Booknetic SMS Campaigns", page_icon=":material/sms:", layout="wide",
    initial_sidebar_state="expanded",
)
ui.apply_style()



def pages(session: Session) -> None:
    """The signed-in user's navigation, run as that user."""
    account = [st.Page(PAGES / "suppression.py", title="Suppression list", icon=":material/block:")]
    if session.user.role in ADMIN_ROLES:  # credentials, users and the audit log: never an analyst's
        account += [
            st.Page(PAGES / "settings.py", title="Settings", icon=":material/settings:"),
            st.Page(PAGES / "users.py", title="Users", icon=":material/manage_accounts:"),
            st.Page(PAGES / "audit.py", title="Audit log", icon=":material/policy:"),
        ]
    navigation = st.navigation(
        {
            "Campaign": [
                st.Page(PAGES / "audience.py", title="Audience", icon=":material/groups:", default=True),
                st.Page(PAGES / "compose.py", title="Compose", icon=":material/edit_note:"),
                st.Page(PAGES / "send.py", title="Send", icon=":material/send:"),
            ],
            "Follow up": [
                st.Page(PAGES / "campaigns.py", title="Campaigns", icon=":material/campaign:"),
                st.Page(PAGES / "recurring.py", title="Recurring", icon=":material/event_repeat:"),
                st.Page(PAGES / "logs.py", title="Delivery log", icon=":material/receipt_long:"),
            ],
            "Account": account,
        }
    )
    ui.tenant_sidebar()
    with acting_as(session.user.as_actor()):  # every core call of the page is checked and audited as this user
        navigation.run()


# Under `streamlit run` (and AppTest) this module is __main__; a multiprocessing child that re-imports it by path
# (as __mp_main__) must not draw the console.
if __name__ == "__main__":
    session = ui.checked_session()
    if session is None:
        ui.sign_in_form()
        st.stop()
    else:
        pages(session)
