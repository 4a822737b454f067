"""Settings: the tenant's Twilio credentials (the auth token is write-only), sender, region, rate and retries."""

from __future__ import annotations

import phonenumbers
import streamlit as st

from console import ui
from orchestration.credits import statement, topup
from orchestration.errors import UserError
from orchestration.messages.pricing import PRICES_DATE, set_tenant_price, tenant_price
from orchestration.sender.pacing import sender_throughput_setting, set_sender_throughput
from orchestration.tenants import (
    TokenCipher,
    TwilioCredentials,
    get_settings,
    load_twilio,
    save_twilio,
    twilio_summary,
    update_settings,
)
from orchestration.tenants.twilio_client import check_credentials

REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)


def save_credentials(tenant: int, values: dict[str, str]) -> None:
    """Store the credentials; an empty token field keeps the stored token (it is never shown back)."""
    cipher = TokenCipher.for_home(ui.home())
    token = values["auth_token"].strip()
    if not token:
        if twilio_summary(ui.ledger(), tenant) is None:
            raise UserError("Enter the auth token (it is stored encrypted and never shown again).")
        token = load_twilio(ui.ledger(), tenant, cipher).auth_token
    credentials = TwilioCredentials(
        account_sid=values["account_sid"].strip(),
        auth_token=token,
        from_number=values["from_number"].strip() or None,
        messaging_service_sid=values["messaging_service_sid"].strip() or None,
        api_base_url=values["api_base_url"].strip() or None,
    )
    throughput = values["sender_rate"].strip()
    try:
        rate = float(throughput) if throughput else None
    except ValueError:
        raise UserError(f"Sender throughput must be a number of segments per second, not {throughput!r}.") from None
    if rate is not None and not 0 <= rate <= 10_000:
        raise UserError(f"Sender throughput must be between 0 (no limit) and 10000 segments/s, not {rate:g}.")
    save_twilio(ui.ledger(), tenant, credentials, cipher)
    with ui.ledger().write() as con:
        set_sender_throughput(con, tenant, credentials.messaging_service_sid or credentials.from_number, rate)


def credentials_form(tenant: int) -> None:
    summary = twilio_summary(ui.ledger(), tenant)
    sender = (summary.messaging_service_sid or summary.from_number) if summary else None
    own_rate, rate_in_force = (None, None)
    if sender:
        with ui.ledger().read() as con:
            own_rate, rate_in_force = sender_throughput_setting(con, tenant, sender)
    st.subheader("Twilio credentials")
    if summary:
        st.caption(f"Saved {summary.updated_at[:16].replace('T', ' ')} UTC. The auth token is stored encrypted "
                   "and is never shown; leave it empty to keep it.")
    else:
        st.caption("Not set yet: messages cannot be sent until they are.")
    with st.form("set_credentials", clear_on_submit=False):
        values = {
            "account_sid": st.text_input("Account SID", value=summary.account_sid if summary else "",
                                         placeholder="AC…"),
            "auth_token": st.text_input("Auth token", type="password", value="",
                                        placeholder="•••••••• (saved)" if summary else "Paste the auth token"),
            "from_number": st.text_input("Sender number", value=(summary.from_number or "") if summary else "",
                                         placeholder="+15550100000"),
            "messaging_service_sid": st.text_input(
                "Messaging Service SID (optional)",
                value=(summary.messaging_service_sid or "") if summary else "", placeholder="MG…",
                help="Twilio picks the sender from the service's pool; give a number, a service, or both."),
            "api_base_url": st.text_input(
                "API base URL (advanced)", value=(summary.api_base_url or "") if summary else "",
                placeholder="https://api.twilio.com",
                help="Leave empty for the real Twilio. A local URL points at the simulator."),
            "sender_rate": st.text_input(
                "Sender throughput (SMS segments/s, optional)", value="" if own_rate is None else f"{own_rate:g}",
                placeholder=f"{rate_in_force:g} (its type's default)" if rate_in_force is not None else "by type",
                help="Shared by every campaign on this sender. Empty: Twilio's default for its type (US long code "
                     "1/s, toll-free 3/s, short code 100/s, Messaging Service 10/s); 0: no limit."),
        }
        if st.form_submit_button("Save credentials", icon=":material/key:", type="primary", key="set_save_credentials"):
            if ui.attempt("saving the credentials", lambda: save_credentials(tenant, values) or True):
                ui.clear_reads()
                st.success("Credentials saved.", icon=":material/check_circle:")
    if st.button("Check credentials", icon=":material/verified_user:", key="set_check"):
        def check() -> None:
            credentials = load_twilio(ui.ledger(), tenant, TokenCipher.for_home(ui.home()))
            with st.spinner("Asking Twilio…"):
                answer = check_credentials(credentials)
            (st.success if answer.works else st.error)(answer.message + ".", icon=(
                ":material/check_circle:" if answer.works else ":material/error:"))
        ui.attempt("checking the credentials", check)


def parse_price(text: str) -> float | None:
    """The price field: empty for the list prices, else a number of USD (a UserError otherwise)."""
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise UserError(f"The price per SMS segment must be a number of USD such as 0.0079, not {text!r}.") from None


def sending_form(tenant: int) -> None:
    current = get_settings(ui.ledger(), tenant)
    st.subheader("Sending")
    with st.form("set_sending"):
        company_name = (ui.company(tenant).get("name") or "").strip()
        name = st.text_input(
            "Business name", value=current.name or company_name, placeholder=company_name or "Your business",
            help="How the console names this tenant. Messages say {company_name}"
                 + (f" = “{company_name}”, Booknetic's company name (its company settings)." if company_name
                    else ": Booknetic's company name, empty until the data has one."))
        if company_name:
            st.caption(f"Messages use “{company_name}” for {{company_name}} (from Booknetic).")
        region = st.selectbox("Default phone region", REGIONS, index=REGIONS.index(current.default_region),
                              help="Numbers written without a country code are read as this country's.")
        rate = st.number_input("Campaign rate cap (messages per second)", min_value=0.1, max_value=1000.0,
                               value=float(current.rate_limit_per_s), step=1.0,
                               help="Each campaign's own cap; the sender's throughput (with the credentials) "
                                    "limits all its campaigns together.")
        st.markdown("**Retries**")
        cols = st.columns(3)
        attempts = cols[0].number_input("Attempts per recipient", min_value=1, max_value=20,
                                        value=int(current.max_attempts), step=1)
        base = cols[1].number_input("First retry after (s)", min_value=1.0, max_value=86_400.0,
                                    value=float(current.retry_base_seconds), step=30.0,
                                    help="Each further retry waits twice as long.")
        streak = cols[2].number_input("Pause after failures in a row", min_value=1, max_value=100_000,
                                      value=int(current.failure_streak_pause), step=1)
        own_price = tenant_price(ui.ledger(), tenant)
        price = st.text_input(
            "Price per SMS segment (USD, optional)", value="" if own_price is None else f"{own_price:g}",
            placeholder=f"Twilio's list price by country ({PRICES_DATE})", key="set_price",
            help="Used for the cost estimate before a launch. Empty: Twilio's public list prices by destination "
                 "country; set your contract's price to use it for every destination.")
        if st.form_submit_button("Save settings", icon=":material/save:", type="primary", key="set_save_settings"):
            def save() -> object:
                usd = parse_price(price)
                saved = update_settings(
                    ui.ledger(), tenant, name=name, default_region=region, rate_limit_per_s=rate,
                    max_attempts=int(attempts), retry_base_seconds=base, failure_streak_pause=int(streak))
                set_tenant_price(ui.ledger(), tenant, usd)
                return saved
            saved = ui.attempt("saving the settings", save)
            if saved is not None:
                ui.clear_reads()
                st.success("Settings saved.", icon=":material/check_circle:")


def credits_panel(tenant: int) -> None:
    """The tenant's SMS credits; an operator tops them up here (the first top-up meters the tenant)."""
    found = statement(ui.ledger(), tenant)
    with st.container(border=True):
        st.markdown("**SMS credits**")
        if found.metered:
            cols = st.columns(3)
            cols[0].metric("Balance (segments)", ui.number(found.balance), border=True)
            cols[1].metric("Topped up", ui.number(found.topped_up), border=True)
            cols[2].metric("Used", ui.number(found.used), border=True)
        else:
            st.caption("Not metered: this tenant sends without limit (a single site, or a SaaS tenant never topped "
                       "up). An operator's first top-up meters it.")
        if ui.signed_in_user().role != "operator":
            return
        with st.form("set_topup_form", clear_on_submit=True):
            segments = st.number_input("Segments to add", min_value=0, max_value=1_000_000_000, value=1000, step=100,
                                       key="set_topup_segments")
            note = st.text_input("Note", placeholder="Invoice 2026-041", key="set_topup_note")
            if st.form_submit_button("Top up", icon=":material/toll:", key="set_topup"):
                left = ui.attempt("topping up", lambda: topup(ui.ledger(), tenant, int(segments), note))
                if left is not None:
                    st.success(f"Balance: {ui.number(left)} segments.", icon=":material/check_circle:")


tenant = ui.tenant_id()
ui.page_header("Settings", f"How {ui.tenant_label(tenant, get_settings(ui.ledger(), tenant).name)} sends.")
left, right = st.columns(2, gap="large")
with left:
    ui.attempt("reading the credentials", lambda: credentials_form(tenant))
with right:
    ui.attempt("reading the settings", lambda: sending_form(tenant))
    ui.attempt("reading the SMS credits", lambda: credits_panel(tenant))
