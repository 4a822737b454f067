"""Shared console plumbing: the home folder, the signed-in user and their tenant, short cached reads,
one-message error handling."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

import pandas as pd
import streamlit as st

from orchestration.audiences import AudienceQuery, FilterOptions, Preview, filter_options, preview, segment_sizes
from orchestration.auth import sessions
from orchestration.auth.sessions import Session
from orchestration.auth.users import User
from orchestration.config import TWILIO_API_URL_ENV, Home
from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.messages.pricing import CostEstimate
from orchestration.tenants import get_settings, list_tenants, twilio_summary
from orchestration.warehouse import Warehouse

log = logging.getLogger("bkntc_sms.console")

T = TypeVar("T")

CACHE_TTL_S = 20
TENANT_KEY = "tenant_id"
SESSION_KEY = "_signed_in_session"  # a sessions.Session; no widget has this key, so no browser can set it


def home() -> Home:
    """The home folder ($BKNTC_SMS_HOME), resolved on every rerun (cheap, and right when the env changes)."""
    return Home.resolve().ensure()


@st.cache_resource(show_spinner=False)
def _warehouse_at(path: str) -> Warehouse:
    return Warehouse(path)


def warehouse() -> Warehouse:
    """The warehouse, one object per process and path: its reads go through the process's held attachment
    (`Warehouse.shared_reader`), reopened when a sync publishes a new file."""
    return _warehouse_at(str(home().warehouse))


@st.cache_resource(show_spinner=False)
def _ledger_at(path: str) -> Ledger:
    return Ledger(path)


def ledger() -> Ledger:
    """The ledger, opened (and migrated) once per process and path."""
    return _ledger_at(str(home().ledger))


def checked_session() -> Session | None:
    """The signed-in session, re-read from the ledger on this rerun: None (and forgotten) once it expired, was
    signed out, or its user was disabled — so a disabled user is signed out at their next action."""
    found = sessions.check(ledger(), st.session_state.get(SESSION_KEY))
    if found is None:
        st.session_state.pop(SESSION_KEY, None)
    else:
        st.session_state[SESSION_KEY] = found
    return found


def signed_in_user() -> User:
    """The user of this rerun (app.py runs no page without one)."""
    session = st.session_state.get(SESSION_KEY)
    if not isinstance(session, Session):
        st.stop()
    return session.user


def tenant_id() -> int:
    """The tenant the console works on: an admin's or analyst's own, whatever the session state says; an
    operator's choice in the sidebar. Every page is scoped to it."""
    user = signed_in_user()
    if user.tenant_id is not None:
        return user.tenant_id
    chosen = st.session_state.get(TENANT_KEY, 0)
    return chosen if isinstance(chosen, int) and not isinstance(chosen, bool) and chosen >= 0 else 0


def sign_in_form() -> None:
    """The sign-in page: email and password (counted and locked in the ledger after 5 failures)."""
    st.html('<div class="brand">Booknetic SMS</div><div class="brand-sub">Campaigns from your bookings</div>')
    st.title("Sign in")
    with st.form("sign_in", clear_on_submit=True, width=420):
        email = st.text_input("Email", key="auth_email", autocomplete="username")
        password = st.text_input("Password", type="password", key="auth_password", autocomplete="current-password")
        if st.form_submit_button("Sign in", icon=":material/login:", type="primary", key="auth_sign_in"):
            session = attempt("signing in", lambda: sessions.sign_in(ledger(), email, password))
            if session is not None:
                forget_choices()
                st.session_state.pop(TENANT_KEY, None)
                st.session_state[SESSION_KEY] = session
                st.rerun()


def sign_out() -> None:
    session = st.session_state.pop(SESSION_KEY, None)
    if isinstance(session, Session):
        attempt("signing out", lambda: sessions.sign_out(ledger(), session))
    forget_choices()
    st.session_state.pop(TENANT_KEY, None)


def report_unexpected(what: str) -> None:
    """Log the current exception server-side and show one short sentence on the page."""
    log.exception("console: unexpected error while %s", what)
    st.error(f"Something went wrong while {what}. The details are in the server log.", icon=":material/error:")


@contextmanager
def guarded(what: str) -> Iterator[None]:
    """Run a block; a UserError becomes one st.error with its text, anything else a short message + server log."""
    try:
        yield
    except UserError as exc:
        st.error(str(exc), icon=":material/error:")
    except Exception:  # noqa: BLE001 - the page must never show a traceback
        report_unexpected(what)


def attempt(what: str, action: Callable[[], T]) -> T | None:
    """Call `action`; on a UserError or a bug show one message (see `guarded`) and return None."""
    with guarded(what):
        return action()
    return None


def clear_reads() -> None:
    """Forget cached reads after a write made from the console, so the next rerun shows fresh figures."""
    st.cache_data.clear()


def page_header(title: str, caption: str) -> None:
    st.title(title)
    st.caption(caption)


def number(value: float | int) -> str:
    """1234567 -> '1,234,567' (figures read by people)."""
    return f"{value:,.0f}"


_STYLE = """
<style>
  [data-testid="stAppDeployButton"], [data-testid="stMainMenu"] { display: none; }
  .block-container { padding-top: 2.2rem; max-width: 1280px; }
  .sim-banner { background: #e8f4ea; border: 1px solid #9ccfa6; color: #1e5b2c; border-radius: 0.5rem;
                padding: 0.45rem 0.7rem; font-size: 0.85rem; margin-top: 0.4rem; }
  .brand { font-weight: 700; font-size: 1.15rem; letter-spacing: -0.01em; margin-bottom: 0.1rem; }
  .brand-sub { color: #6b7280; font-size: 0.8rem; margin-bottom: 0.8rem; }
</style>
"""


def apply_style() -> None:
    """A little CSS so the console reads like a product (no developer menu, tidy spacing)."""
    st.html(_STYLE)


_KEPT = "_kept_choices"


def remember(key: str, default: object) -> None:
    """Give widget `key` the value it had last time this page was shown (Streamlit forgets it between pages).

    Call before creating the widget with `key=key`, and call `keep(key)` after it.
    """
    if key not in st.session_state:
        st.session_state[key] = st.session_state.get(_KEPT, {}).get(key, default)


def keep(*keys: str) -> None:
    kept = st.session_state.setdefault(_KEPT, {})
    for key in keys:
        if key in st.session_state:
            kept[key] = st.session_state[key]


def forget_choices() -> None:
    """Drop every remembered choice (the tenant changed: services, locations and templates are theirs)."""
    st.session_state.pop(_KEPT, None)
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(("aud_", "cmp_", "snd_"))]:
        del st.session_state[key]


SAMPLE_COLUMNS = {
    "customer_id": "Customer",
    "full_name": "Name",
    "phone_e164": "Phone",
    "email": "Email",
    "anchor_starts_at": "Appointment (UTC)",
    "service_name": "Service",
    "location_name": "Location",
}
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "0.0.0.0")


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def _tenants(warehouse_path: str, ledger_path: str) -> list[tuple[int, str]]:
    """Tenants with data in the warehouse or settings in the ledger, with their name ('' when none)."""
    tenants = list_tenants(Warehouse(warehouse_path), _ledger_at(ledger_path))
    return [(tenant.tenant_id, tenant.name) for tenant in tenants]


def tenant_label(tenant: int, name: str) -> str:
    if name:
        return name if tenant == 0 else f"{name} · tenant {tenant}"
    return "This site" if tenant == 0 else f"Tenant {tenant}"


def is_simulator(url: str | None) -> bool:
    """True when messages go to a Twilio simulator on this machine (a local base URL)."""
    return bool(url) and (urlparse(url).hostname or "") in LOCAL_HOSTS


def tenant_sidebar() -> None:
    """The tenant selector (only the tenants the signed-in user may see), the simulator banner and sign-out,
    in the sidebar of every page."""
    user = signed_in_user()
    with st.sidebar:
        st.html('<div class="brand">Booknetic SMS</div><div class="brand-sub">Campaigns from your bookings</div>')
        listed = dict(attempt("listing tenants", lambda: _tenants(str(home().warehouse), str(home().ledger)))
                      or [(0, "")])
        tenants = listed if user.tenant_id is None else {user.tenant_id: listed.get(user.tenant_id, "")}
        if st.session_state.get(TENANT_KEY) not in tenants:
            st.session_state[TENANT_KEY] = next(iter(tenants))
        st.selectbox(
            "Tenant", list(tenants), key=TENANT_KEY, format_func=lambda t: tenant_label(t, tenants[t]),
            on_change=forget_choices, disabled=len(tenants) == 1,
            help="Everything in the console is scoped to this tenant: audiences, campaigns, logs, settings.",
        )
        summary = attempt("reading the tenant's credentials", lambda: twilio_summary(ledger(), tenant_id()))
        url = (summary.api_base_url if summary else None) or os.environ.get(TWILIO_API_URL_ENV)
        if summary is None:
            st.warning("No Twilio credentials yet: add them in Settings to send.", icon=":material/key_off:")
        if is_simulator(url):
            st.html('<div class="sim-banner"><b>Simulator</b> — nothing leaves this machine</div>')
        st.divider()
        st.caption(f"Signed in as **{user.email}** ({user.role})")
        if st.button("Sign out", icon=":material/logout:", key="auth_sign_out"):
            sign_out()
            st.rerun()


def require_warehouse() -> bool:
    """True when the warehouse has been built; otherwise a friendly note saying how to build it."""
    if warehouse().exists:
        return True
    st.info("No booking data yet. Run `bkntc-sms sync --source ...` (or `make demo`) to load your Booknetic data.",
            icon=":material/database:")
    return False


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def _filter_options(warehouse_path: str, tenant: int) -> FilterOptions:
    return filter_options(_warehouse_at(warehouse_path), tenant)


def cached_filter_options(tenant: int) -> FilterOptions | None:
    return attempt("reading the filter choices", lambda: _filter_options(str(home().warehouse), tenant))


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def _preview(warehouse_path: str, ledger_path: str, query: AudienceQuery, sample: int) -> Preview:
    return preview(_warehouse_at(warehouse_path), _ledger_at(ledger_path), query, sample=sample)


def cached_preview(query: AudienceQuery, sample: int = 20) -> Preview | None:
    return attempt("previewing the audience",
                   lambda: _preview(str(home().warehouse), str(home().ledger), query, sample))


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def _segment_sizes(warehouse_path: str, ledger_path: str, tenant: int) -> pd.DataFrame:
    return segment_sizes(_warehouse_at(warehouse_path), _ledger_at(ledger_path), tenant)


def cached_segment_sizes(tenant: int) -> pd.DataFrame | None:
    return attempt("counting the segments", lambda: _segment_sizes(str(home().warehouse), str(home().ledger), tenant))


def region(tenant: int) -> str:
    return get_settings(ledger(), tenant).default_region


def tenant_zone(tenant: int) -> str | None:
    """The tenant's IANA time zone (None: not set): times are shown in it."""
    return get_settings(ledger(), tenant).timezone


AUDIENCE = "audience_query"  # the AudienceQuery last previewed on the Audience page
MESSAGE = "message_body"  # the message last written on the Compose page


def chosen_audience(tenant: int) -> AudienceQuery:
    """The audience picked on the Audience page, or all customers when none was picked (for this tenant)."""
    query = st.session_state.get(AUDIENCE)
    if isinstance(query, AudienceQuery) and query.tenant_id == tenant:
        return query
    return AudienceQuery(tenant, "all_customers")


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def _company(warehouse_path: str, tenant: int) -> dict:
    from orchestration.sender.campaigns import company_details

    return company_details(Warehouse(warehouse_path), tenant) if Warehouse(warehouse_path).exists else {}


def company(tenant: int) -> dict:
    """The tenant's company details for {company_*} shortcodes ({} when unknown)."""
    return attempt("reading the company details", lambda: _company(str(home().warehouse), tenant)) or {}


def start_sending(tenant: int, campaign_id: int, actor: str | None = None) -> str:
    """Launch a send run of the queued campaign now: a run of the send job in the home's Dagster instance, in its own
    process (not the console's); returns its run id. Launch, resume and manual sends all come through here."""
    from orchestration.defs.launch import launch_send_run

    return launch_send_run(home(), tenant, campaign_id, actor=actor)


def record_test_send(tenant: int, campaign_id: int, actor: str | None = None) -> None:
    """Record a test send (sent by the console itself, for speed) on its campaign's partition in Dagster."""
    from orchestration.defs.launch import record_test_send as record

    try:
        record(home(), tenant, campaign_id, actor=actor)
    except Exception:  # noqa: BLE001 - the message went out; a missing audit event must not hide that
        log.exception("console: test send of campaign %s (tenant %s) not recorded in Dagster", campaign_id, tenant)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner="Counting SMS segments for every recipient…")
def _campaign_cost(warehouse_path: str, ledger_path: str, query: AudienceQuery, body: str
                   ) -> tuple[int, CostEstimate]:
    from orchestration.sender.campaigns import estimate

    return estimate(Warehouse(warehouse_path), _ledger_at(ledger_path), query, body)


def campaign_cost(query: AudienceQuery, body: str) -> tuple[int, CostEstimate] | None:
    """(recipients, segments and cost by destination country) of this audience and message: every body
    rendered, as the launch will."""
    return attempt("counting the campaign's segments",
                   lambda: _campaign_cost(str(home().warehouse), str(home().ledger), query, body))


def audience_filters(query: AudienceQuery) -> list[str]:
    """Every choice that decides the audience, in words: the segment and its window or minimum, each filter
    (services and locations by name), and whether the suppression list is left out of the count."""
    from orchestration.audiences import SEGMENTS
    from orchestration.audiences.query import segment_parameters

    segment = SEGMENTS[query.segment]
    words = [f"Segment: {segment.label}"]
    for name, value in segment_parameters(query).items():
        words.append(f"Window: the last {value} days" if name == "days" else f"At least {value} appointments")
    options = cached_filter_options(query.tenant_id)
    services = dict(zip(options.services["service_id"], options.services["name"], strict=True)) if options else {}
    locations = dict(zip(options.locations["location_id"], options.locations["name"], strict=True)) if options else {}
    if query.service_ids:
        words.append("Services: " + ", ".join(services.get(i, f"#{i}") for i in query.service_ids))
    if query.location_ids:
        words.append("Locations: " + ", ".join(locations.get(i, f"#{i}") for i in query.location_ids))
    if query.statuses:
        words.append("Appointment statuses: " + ", ".join(s.replace("_", " ") for s in query.statuses))
    if query.min_appointments:
        words.append(f"At least {query.min_appointments} matching appointments")
    words.append("Suppression list: left out of the count" if query.exclude_suppressed
                 else "Suppression list: counted, skipped at send time")
    return words


def money(usd: float) -> str:
    """0.0831 -> '$0.08'; below a cent, four decimals."""
    return f"${usd:,.2f}" if usd >= 0.01 or usd == 0 else f"${usd:.4f}"


def delivery_log_csv(tenant: int, campaign_id: int) -> bytes:
    """The campaign's delivery log as CSV bytes: the very file `bkntc-sms logs export` writes."""
    from orchestration.sender.reports import export_csv

    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "log.csv"
        export_csv(ledger(), tenant, campaign_id, target)
        return target.read_bytes()


CHART_POINTS = 60  # at most this many buckets on the send-rate chart
MIN_BUCKET_S = 5  # a bucket spans at least this long: a 1-s bucket shows the sender's bursts, not its rate


def rate_frame(sent_at: pd.Series) -> pd.DataFrame:
    """Messages per second over time from the send times, in equal buckets of at least MIN_BUCKET_S seconds (at
    most CHART_POINTS of them): columns `time` (the bucket's start, UTC) and `rate` (its sends over its length).

    A bucket's rate is an average over its whole length, so it is never above the rate the sender held for that
    long (no smoothing that overshoots); the first and last buckets, partly before and after the send, read low."""
    times = pd.to_datetime(sent_at.dropna(), utc=True)
    if times.empty:
        frame = pd.DataFrame({"time": pd.Series(dtype="datetime64[ns]"), "rate": pd.Series(dtype="float64")})
        frame.attrs["bucket_s"] = MIN_BUCKET_S
        return frame
    span = (times.max() - times.min()).total_seconds()
    step = max(MIN_BUCKET_S, int(-(-span // CHART_POINTS)))
    counts = times.dt.floor(f"{step}s").value_counts().sort_index()
    full = pd.date_range(counts.index.min(), counts.index.max(), freq=f"{step}s")
    counts = counts.reindex(full, fill_value=0)
    frame = pd.DataFrame({"time": counts.index.tz_convert(None), "rate": counts.to_numpy() / step})
    frame.attrs["bucket_s"] = step
    return frame


PICKED = "campaign_selected"  # the pickers' widget key (Streamlit drops a widget's state when its page is left)
FOCUS = "campaign_focus"  # the campaign the person works on, kept across pages: the last launched or picked


def focus_campaign(campaign_id: int) -> None:
    """Open this campaign on the Campaigns and Delivery log pages (after a launch)."""
    st.session_state[FOCUS] = campaign_id


def _picked() -> None:
    st.session_state[FOCUS] = st.session_state[PICKED]


def pick_campaign(found: list) -> int:
    """The campaign picker of the Campaigns and Delivery log pages: the campaign in focus (the last launched or
    picked on either page), else the newest; labels carry each campaign's state as read now."""
    by_id = {c.campaign_id: c for c in found}
    if st.session_state.get(FOCUS) in by_id:
        st.session_state[PICKED] = st.session_state[FOCUS]
    elif st.session_state.get(PICKED) not in by_id:
        st.session_state[PICKED] = found[0].campaign_id
    return st.selectbox("Campaign", list(by_id), key=PICKED, on_change=_picked,
                        format_func=lambda i: f"#{i} · {by_id[i].name} ({by_id[i].state})")


def rerun_when_it_stops(tenant: int, campaign) -> None:
    """While the campaign is queued or sending, check its state every 2 s and redraw the page when it changes
    (so the picker's "(sending)" and the figures follow it to "completed")."""
    from orchestration.sender.campaigns import get_campaign

    if campaign.state not in ("queued", "sending"):
        return

    @st.fragment(run_every=2)
    def watch() -> None:
        now = attempt("reading the campaign's state", lambda: get_campaign(ledger(), tenant, campaign.campaign_id))
        if now is not None and now.state != campaign.state:
            st.rerun()

    watch()
