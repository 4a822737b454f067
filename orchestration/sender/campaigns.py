"""The campaign lifecycle: create, schedule, launch (freeze the audience into the ledger, now or at the send time),
resend to the ones that did not get it, pause, resume, cancel, complete."""

from __future__ import annotations

import json
import math
import sqlite3
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pyarrow as pa

from orchestration.audiences import AudienceQuery, recipients
from orchestration.audiences.audience import snapshot
from orchestration.audiences.query import check_arguments
from orchestration.auth import audit
from orchestration.credits import account as credits
from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.messages.pricing import CostEstimate, tenant_price
from orchestration.messages.segments import count_segments_many
from orchestration.messages.shortcodes import check_template, render_many, used_shortcodes
from orchestration.recurring import first_messages
from orchestration.sender.gates import check_on_cap, normalized_quiet_hours
from orchestration.sender.quiet_hours import own_zone, own_zone_of
from orchestration.sender.schedule import Schedule, missed_reason, verdict
from orchestration.sqlfiles import load_sql
from orchestration.tenants import TenantSettings, ensure_tenant, get_settings
from orchestration.warehouse import Warehouse

STATES = ("draft", "queued", "sending", "paused", "completed", "cancelled")
KINDS = ("segment", "manual", "test")
SNAPSHOT_CHUNK = 10_000

# action -> {from state: to state}; anything else is refused with a UserError.
TRANSITIONS: dict[str, dict[str, str]] = {
    "launch": {"draft": "queued"},
    "start": {"queued": "sending"},
    "pause": {"queued": "paused", "sending": "paused"},
    "resume": {"paused": "queued"},
    "cancel": {"draft": "cancelled", "queued": "cancelled", "sending": "cancelled", "paused": "cancelled"},
    "complete": {"sending": "completed"},
    "reopen": {"completed": "queued"},  # a recipient is sent again after a delivery error (delivery.rules)
}


@dataclass(frozen=True)
class CampaignSettings:
    """How a campaign sends; None takes the tenant's setting."""

    max_attempts: int | None = None
    retry_base_seconds: float | None = None
    rate_limit_per_s: float | None = None
    failure_streak_pause: int | None = None
    quiet_hours: str | None = None  # the campaign's own sending window (HH:MM-HH:MM or off); None: the tenant's
    on_cap: str = "skip"  # a recipient at the frequency cap is skipped, or deferred until the cap frees up

    def send_rules(self) -> dict[str, Any]:
        """The campaign's quiet hours (normalized) and on_cap, checked (a UserError)."""
        return {"quiet_hours": None if self.quiet_hours is None else normalized_quiet_hours(self.quiet_hours),
                "on_cap": check_on_cap(self.on_cap)}

    def resolved(self, tenant: TenantSettings) -> dict[str, Any]:
        values = {
            "max_attempts": tenant.max_attempts if self.max_attempts is None else self.max_attempts,
            "retry_base_seconds": (
                tenant.retry_base_seconds if self.retry_base_seconds is None else self.retry_base_seconds
            ),
            "rate_limit_per_s": tenant.rate_limit_per_s if self.rate_limit_per_s is None else self.rate_limit_per_s,
            "failure_streak_pause": (
                tenant.failure_streak_pause if self.failure_streak_pause is None else self.failure_streak_pause
            ),
        }
        if int(values["max_attempts"]) < 1:
            raise UserError(f"--max-attempts must be at least 1, got {values['max_attempts']}.")
        if not float(values["retry_base_seconds"]) > 0 or not math.isfinite(float(values["retry_base_seconds"])):
            raise UserError(f"--retry-base-seconds must be greater than 0, got {values['retry_base_seconds']}.")
        if not float(values["rate_limit_per_s"]) >= 0 or not math.isfinite(float(values["rate_limit_per_s"])):
            raise UserError(f"--rate must be 0 (no limit) or more, got {values['rate_limit_per_s']}.")
        if int(values["failure_streak_pause"]) < 1:
            raise UserError(f"The failure streak must be at least 1, got {values['failure_streak_pause']}.")
        return values


@dataclass(frozen=True)
class Campaign:
    """One campaign as the ledger holds it."""

    campaign_id: int
    tenant_id: int
    name: str
    kind: str
    state: str
    audience: dict[str, Any]
    template_body: str
    max_attempts: int
    retry_base_seconds: float
    rate_limit_per_s: float
    failure_streak_pause: int
    failure_streak: int
    generation: int
    pause_reason: str | None
    recipient_count: int
    excluded: dict[str, int]
    runner_id: str | None
    runner_host: str | None
    runner_pid: int | None
    runner_lease_until: float | None
    created_at: str
    launched_at: str | None
    finished_at: str | None
    origin_campaign_id: int | None = None  # a resend: the campaign whose recipients it sends to again
    send_at: float | None = None  # scheduled: not sent before this (Unix seconds)
    max_lateness_s: float | None = None  # scheduled: not sent when it would start later than send_at + this
    freeze_at: str = "send"  # scheduled: the audience is frozen at the send time, or when it was launched
    freeze_pending: int = 0  # 1: queued, its audience is frozen by the send run at its send time
    first_run_at: float | None = None  # when a send run first started it (the lateness no longer applies)
    quiet_hours: str | None = None  # its own sending window (HH:MM-HH:MM or off); None: the tenant's
    on_cap: str = "skip"  # what a recipient at the frequency cap gets: skip, or defer until the cap frees up

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Campaign:
        values = dict(row)
        values["audience"] = json.loads(values.pop("audience_json"))
        values["excluded"] = json.loads(values.pop("excluded_json"))
        values.pop("updated_at")
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def audience_query(self) -> AudienceQuery:
        values = dict(self.audience)
        if values.get("as_of"):
            values["as_of"] = datetime.fromisoformat(values["as_of"])
        return AudienceQuery(tenant_id=self.tenant_id, **values)


def _audience_json(query: AudienceQuery | None) -> str:
    if query is None:
        return "{}"
    values = asdict(query)
    values.pop("tenant_id")
    values["as_of"] = query.as_of.isoformat() if query.as_of else None
    return json.dumps(values, sort_keys=True)


def get_campaign(ledger: Ledger, tenant_id: int, campaign_id: int) -> Campaign:
    """The tenant's campaign; a campaign of another tenant is "not found", like one that never existed."""
    with ledger.read() as con:
        row = _select(con, tenant_id, campaign_id)
    return Campaign.from_row(row)


def _select(con: sqlite3.Connection, tenant_id: int, campaign_id: int) -> sqlite3.Row:
    row = con.execute(
        load_sql("sender/campaign_get.sql"), {"tenant_id": tenant_id, "campaign_id": campaign_id}
    ).fetchone()
    if row is None:
        raise UserError(f"Campaign {campaign_id} not found for tenant {tenant_id}.")
    return row


def lock_campaign(con: sqlite3.Connection, tenant_id: int, campaign_id: int) -> None:
    """Inside a write transaction, before reading a campaign's state to change it: no other writer changes the
    campaign until this transaction ends (SQLite: the transaction is the only writer; PostgreSQL: a row lock)."""
    con.execute(load_sql("sender/campaign_lock.sql"), {"tenant_id": tenant_id, "campaign_id": campaign_id})


def list_campaigns(ledger: Ledger, tenant_id: int) -> list[Campaign]:
    """The tenant's campaigns, newest first."""
    with ledger.read() as con:
        rows = con.execute(load_sql("sender/campaign_list.sql"), {"tenant_id": tenant_id}).fetchall()
    return [Campaign.from_row(row) for row in rows]


def create_campaign(
    ledger: Ledger,
    tenant_id: int,
    name: str,
    template: str,
    query: AudienceQuery | None = None,
    settings: CampaignSettings | None = None,
    kind: str = "segment",
    schedule: Schedule | None = None,
    now: float | None = None,
) -> Campaign:
    """A draft campaign: its audience query (None for manual and test sends), template, sending settings and, for a
    segment campaign, its schedule (refused when its send time is already missed at `now`)."""
    if kind not in KINDS:
        raise ValueError(f"unknown campaign kind {kind!r}")
    if not name or not name.strip():
        raise UserError("A campaign needs a name.")
    if kind == "segment" and query is None:
        raise UserError("A segment campaign needs a segment.")
    if query is not None and query.tenant_id != tenant_id:
        raise ValueError("the audience query belongs to another tenant")
    check_template(template)
    if query is not None:
        check_arguments(query)
    tenant = ensure_tenant(ledger, tenant_id)
    values = (settings or CampaignSettings()).resolved(tenant)
    rules = (settings or CampaignSettings()).send_rules()
    if schedule is not None:
        if kind != "segment":
            raise UserError(f"Only a segment campaign can be scheduled, not a {kind} send.")
        _refuse_missed(schedule.send_at, schedule.max_lateness_s, time.time() if now is None else now,
                       tenant.timezone, "schedule it")  # fmt: skip
    with ledger.write() as con:
        campaign_id = _insert_campaign(con, tenant_id, name, kind, _audience_json(query), template, values)
        _set_send_rules(con, tenant_id, campaign_id, rules)
        if schedule is not None:
            con.execute(load_sql("sender/campaign_set_schedule.sql"),
                        {"tenant_id": tenant_id, "campaign_id": campaign_id, "send_at": schedule.send_at,
                         "max_lateness_s": schedule.max_lateness_s, "freeze_at": schedule.freeze_at})  # fmt: skip
        return Campaign.from_row(_select(con, tenant_id, campaign_id))


def queue_scheduled_in(
    con: sqlite3.Connection, tenant: TenantSettings, name: str, template: str, query: AudienceQuery,
    schedule: Schedule,
) -> Campaign:  # fmt: skip
    """Inside a write transaction: a segment campaign queued for its schedule, its audience frozen by the send run
    at the send time (a recurring campaign's occurrence); audited as a launch."""
    values = CampaignSettings().resolved(tenant)
    campaign_id = _insert_campaign(con, tenant.tenant_id, name, "segment", _audience_json(query), template, values)
    con.execute(load_sql("sender/campaign_set_schedule.sql"),
                {"tenant_id": tenant.tenant_id, "campaign_id": campaign_id, "send_at": schedule.send_at,
                 "max_lateness_s": schedule.max_lateness_s, "freeze_at": "send"})  # fmt: skip
    _set_freeze_pending(con, tenant.tenant_id, campaign_id, True)
    return audit.campaign(con, "launch", transition(con, tenant.tenant_id, campaign_id, "launch", new_generation=True))


def _set_send_rules(con: sqlite3.Connection, tenant_id: int, campaign_id: int, rules: dict[str, Any]) -> None:
    con.execute(load_sql("sender/campaign_set_send_rules.sql"),
                {"tenant_id": tenant_id, "campaign_id": campaign_id, **rules})  # fmt: skip


def _refuse_missed(send_at: float, max_lateness_s: float | None, now: float, zone: str | None, action: str) -> None:
    if verdict(send_at, max_lateness_s, now) == "missed":
        raise UserError(f"Cannot {action}: {missed_reason(send_at, max_lateness_s, now, zone)}.")


def _insert_campaign(
    con: sqlite3.Connection, tenant_id: int, name: str, kind: str, audience_json: str, template: str,
    settings: dict[str, Any],
) -> int:  # fmt: skip
    return con.execute(
        load_sql("sender/campaign_insert.sql"),
        {"tenant_id": tenant_id, "name": name.strip(), "kind": kind, "audience_json": audience_json,
         "template_body": template, **settings},
    ).fetchone()[0]


def transition(
    con: sqlite3.Connection,
    tenant_id: int,
    campaign_id: int,
    action: str,
    reason: str | None = None,
    new_generation: bool = False,
) -> Campaign:
    """Inside a write transaction: apply one lifecycle action, or a UserError naming why it is refused.

    Pausing a paused campaign changes nothing (it keeps its first pause reason, the cause a person must see)."""
    lock_campaign(con, tenant_id, campaign_id)
    current = Campaign.from_row(_select(con, tenant_id, campaign_id))
    if action == "pause" and current.state == "paused":
        return current
    target = TRANSITIONS[action].get(current.state)
    if target is None:
        allowed = ", ".join(TRANSITIONS[action]) or "none"
        raise UserError(
            f"Cannot {action} campaign {campaign_id}: it is {current.state} (only a campaign that is {allowed} can)."
        )
    con.execute(
        load_sql("sender/campaign_set_state.sql"),
        {
            "tenant_id": tenant_id,
            "campaign_id": campaign_id,
            "from_state": current.state,
            "to_state": target,
            "pause_reason": reason,
            "new_generation": 1 if new_generation else 0,
        },
    )
    return Campaign.from_row(_select(con, tenant_id, campaign_id))


def launch(
    ledger: Ledger, warehouse: Warehouse, tenant_id: int, campaign_id: int, now: float | None = None
) -> Campaign:
    """Freezes the campaign's audience (the preview's own query; counts and rows from one evaluation) with
    rendered bodies, then queues it. A scheduled campaign is queued for its send time; its audience is frozen then
    by the send run (`freeze_at_send`), unless it was scheduled to freeze now. A schedule already missed at `now`
    is refused, nothing written.

    Rows are written in chunks while the campaign stays a draft; only the final transaction queues it, so an
    interrupted launch leaves a draft whose partial rows the next launch clears."""
    audit.authorize(ledger, tenant_id, "campaign.launch")
    campaign = get_campaign(ledger, tenant_id, campaign_id)
    if campaign.state != "draft":
        raise UserError(f"Cannot launch campaign {campaign_id}: it is {campaign.state} (only a draft can).")
    if campaign.kind != "segment":
        raise UserError(f"Campaign {campaign_id} is a {campaign.kind} send: it was launched when it was created.")
    if campaign.send_at is not None:
        _refuse_missed(campaign.send_at, campaign.max_lateness_s, time.time() if now is None else now,
                       get_settings(ledger, tenant_id).timezone, f"launch campaign {campaign_id}")  # fmt: skip
        if campaign.freeze_at == "send":
            with ledger.write() as con:
                con.execute(load_sql("sender/recipients_clear.sql"), {"campaign_id": campaign_id})
                _set_freeze_pending(con, tenant_id, campaign_id, True)
                return transition(con, tenant_id, campaign_id, "launch", new_generation=True)
    excluded = _freeze(ledger, warehouse, campaign)
    return _finish_launch(ledger, tenant_id, campaign_id, excluded=excluded)


def freeze_at_send(ledger: Ledger, warehouse: Warehouse, tenant_id: int, campaign_id: int) -> Campaign:
    """The send run of a campaign scheduled to freeze at its send time freezes its audience now (while it holds the
    campaign); an audience that is empty by then cancels the campaign with the reason `empty_audience`, one that
    the tenant's SMS credits do not cover pauses it (`out of credits: ...`) before anything is sent."""
    campaign = get_campaign(ledger, tenant_id, campaign_id)
    excluded = _freeze(ledger, warehouse, campaign)
    with ledger.write() as con:
        count = con.execute(
            load_sql("sender/campaign_snapshot_done.sql"),
            {"tenant_id": tenant_id, "campaign_id": campaign_id, "excluded_json": json.dumps(excluded)},
        ).fetchone()[0]
        _set_freeze_pending(con, tenant_id, campaign_id, False)
        if count == 0:
            return transition(con, tenant_id, campaign_id, "cancel",
                              reason="empty_audience: nobody was in the audience at its send time")  # fmt: skip
        short = credits.campaign_shortfall(con, tenant_id, campaign_id)  # the launch's check, now that it is known
        if short is not None:
            return transition(con, tenant_id, campaign_id, "pause", reason=short)
        return Campaign.from_row(_select(con, tenant_id, campaign_id))


def _set_freeze_pending(con: sqlite3.Connection, tenant_id: int, campaign_id: int, pending: bool) -> None:
    con.execute(load_sql("sender/campaign_set_freeze_pending.sql"),
                {"tenant_id": tenant_id, "campaign_id": campaign_id, "freeze_pending": int(pending)})  # fmt: skip


def _freeze(ledger: Ledger, warehouse: Warehouse, campaign: Campaign) -> dict[str, int]:
    """Writes the campaign's audience as recipients (rendered), replacing any partial rows; its exclusion counts."""
    campaign_id = campaign.campaign_id
    tenant_id = campaign.tenant_id
    query = campaign.audience_query()
    if query.as_of is None:  # freeze "now", so that the counts and the rows describe the same audience
        query = replace(query, as_of=datetime.now(UTC).replace(microsecond=0))
    company = company_details(warehouse, tenant_id)
    with ledger.write() as con:
        con.execute(load_sql("sender/recipients_clear.sql"), {"campaign_id": campaign_id})
        first_messages.release(con, campaign_id)
        recurring_id = first_messages.occurrence_of(con, campaign_id)
    repeated = 0
    with snapshot(warehouse, ledger, query, chunk_size=SNAPSHOT_CHUNK) as frozen:
        for frame in frozen.chunks:
            bodies = render_many(campaign.template_body, frame, company)
            repeated += _insert_recipients(ledger, campaign_id, frame, bodies, recurring_id)
            pa.default_memory_pool().release_unused()  # pandas' string kernels: hand their pool's pages back
    return {**frozen.excluded, "already_messaged": repeated} if recurring_id is not None else frozen.excluded


def estimate(warehouse: Warehouse, ledger: Ledger, query: AudienceQuery, template: str) -> tuple[int, CostEstimate]:
    """(recipients, SMS segments and cost by destination country) of this audience and message: every body
    rendered, as the launch will."""
    company = company_details(warehouse, query.tenant_id)
    cost = CostEstimate(tenant_price(ledger, query.tenant_id))
    count = 0
    for frame in recipients(warehouse, ledger, query):
        count += len(frame)
        cost.add(frame["phone_e164"], count_segments_many(render_many(template, frame, company))["segments"])
    return count, cost


def company_details(warehouse: Warehouse, tenant_id: int) -> dict[str, Any]:
    """The tenant's company name, phone, address and website for {company_*} shortcodes ({} when unknown)."""
    with warehouse.reader() as con:
        frame = con.execute(load_sql("sender/company.sql"), {"tenant_id": tenant_id}).fetch_df()
    return frame.iloc[0].to_dict() if len(frame) else {}


def _insert_recipients(ledger: Ledger, campaign_id: int, frame: pd.DataFrame, bodies: pd.Series,
                       recurring_id: int | None = None) -> int:  # fmt: skip
    """Inserts the rows; an occurrence of a recurring campaign leaves out (and returns how many) the people an
    earlier occurrence already has for the same appointment, in the same transaction that takes their keys."""
    repeated = 0
    with ledger.write() as con:
        if recurring_id is not None:
            frame, bodies, repeated = first_messages.keep_first(con, recurring_id, campaign_id, frame, bodies)
        _insert_recipients_in(con, campaign_id, frame, bodies)
    return repeated


def _insert_recipients_in(con: sqlite3.Connection, campaign_id: int, frame: pd.DataFrame, bodies: pd.Series) -> None:
    segments = count_segments_many(bodies)["segments"]
    customer_ids = frame["customer_id"].astype("Int64").astype(object).where(frame["customer_id"].notna(), None)
    rows = zip(
        [campaign_id] * len(frame),
        customer_ids.tolist(),
        frame["phone_e164"].astype(str).tolist(),
        frame["full_name"].fillna("").astype(str).tolist(),
        bodies.astype(str).tolist(),
        segments.astype(int).tolist(),
        _own_zones(frame),
        strict=True,
    )
    con.executemany(load_sql("sender/recipients_insert.sql"), rows)


def _own_zones(frame: pd.DataFrame) -> list[str | None]:
    """Each recipient's own zone for the quiet hours (the anchor's client timezone, else the number's one zone):
    an audience's rows carry the number's zone as the sync found it (`phone_zone`); rows without that column
    (typed numbers, a resend) have it looked up by number."""
    zones = [_text(zone) for zone in frame["client_timezone"]] if "client_timezone" in frame else [None] * len(frame)
    if "phone_zone" in frame:
        return [own_zone_of(zone, _text(number_zone)) for zone, number_zone in zip(zones, frame["phone_zone"],
                                                                                  strict=True)]  # fmt: skip
    return [own_zone(zone, phone) for zone, phone in zip(zones, frame["phone_e164"].astype(str), strict=True)]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _finish_launch(ledger: Ledger, tenant_id: int, campaign_id: int, excluded: dict[str, int]) -> Campaign:
    """Queues the frozen campaign; refused (its rows cleared, still a draft) when it has nobody to send to or its
    tenant's SMS credits do not cover it."""
    try:
        with ledger.write() as con:
            return audit.campaign(con, "launch", _finish_launch_in(con, tenant_id, campaign_id, excluded))
    except UserError:
        with ledger.write() as con:
            con.execute(load_sql("sender/recipients_clear.sql"), {"campaign_id": campaign_id})
        raise


def _finish_launch_in(con: sqlite3.Connection, tenant_id: int, campaign_id: int, excluded: dict[str, int]) -> Campaign:
    count = con.execute(
        load_sql("sender/campaign_snapshot_done.sql"),
        {"tenant_id": tenant_id, "campaign_id": campaign_id, "excluded_json": json.dumps(excluded)},
    ).fetchone()[0]
    if count == 0:
        raise UserError(f"Campaign {campaign_id} has no recipients: its audience is empty.")
    credits.refuse_short(con, tenant_id, campaign_id, "launch")
    return transition(con, tenant_id, campaign_id, "launch", new_generation=True)


def launch_numbers(
    ledger: Ledger, tenant_id: int, campaign_id: int, people: pd.DataFrame, company: dict[str, Any]
) -> Campaign:
    """Freezes typed recipients (manual and test sends: phone_e164 + name columns) and queues the campaign."""
    campaign = get_campaign(ledger, tenant_id, campaign_id)
    with ledger.write() as con:
        con.execute(load_sql("sender/recipients_clear.sql"), {"campaign_id": campaign_id})
    _insert_recipients(ledger, campaign_id, people, render_many(campaign.template_body, people, company))
    return _finish_launch(ledger, tenant_id, campaign_id, excluded={})


# --only values of a resend: which of the origin's recipients did not get the message.
RESEND_OUTCOMES: dict[str, str] = {
    "failed": "Twilio never took the message (the send failed) or reported it failed (status failed)",
    "undelivered": "Twilio accepted it but the carrier did not deliver it (status undelivered)",
    "unknown": "no final status came within polling's maximum age (status unknown)",
}
DEFAULT_RESEND = ("failed", "undelivered", "unknown")
# The number itself cannot receive SMS (invalid, not SMS-capable, not mobile, does not exist, landline): a resend
# to it would fail the same way, so it is left out as `undeliverable_number`.
UNDELIVERABLE_NUMBER_CODES = (21211, 21612, 21614, 30005, 30006)
# A resend keeps only each recipient's number and name, so a new text may use these shortcodes (and company_*).
RESEND_SHORTCODES = ("customer_full_name", "customer_name", "customer_first_name", "customer_last_name",
                     "customer_phone")


def resend_outcomes(text: str) -> tuple[str, ...]:
    """The outcomes of a comma-separated --only list (a UserError naming an unknown one or an empty list)."""
    chosen = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    unknown = [part for part in chosen if part not in RESEND_OUTCOMES]
    if unknown or not chosen:
        raise UserError(
            f"--only takes one or more of {', '.join(RESEND_OUTCOMES)} (comma-separated), got {text!r}."
        )
    return chosen


def _resend_template(template: str) -> str:
    check_template(template)
    missing = [code for code in used_shortcodes(template)
               if code not in RESEND_SHORTCODES and not code.startswith("company_")]
    if missing:
        allowed = ", ".join(f"{{{code}}}" for code in RESEND_SHORTCODES)
        raise UserError(
            f"A resend's new text can use {allowed} and the {{company_*}} shortcodes, not "
            f"{', '.join(f'{{{code}}}' for code in missing)}: a campaign keeps only each recipient's number and "
            "name. Leave the text out to send the original messages again."
        )
    return template


def resend(
    ledger: Ledger,
    tenant_id: int,
    campaign_id: int,
    only: tuple[str, ...] = DEFAULT_RESEND,
    template: str | None = None,
    name: str | None = None,
    company: dict[str, Any] | None = None,
) -> Campaign:
    """A new queued campaign to the recipients of `campaign_id` that did not get it (`only`: RESEND_OUTCOMES),
    minus the ones suppressed since and the numbers that cannot receive SMS (counted in `excluded`).

    Each gets the message it was sent before, or `template` rendered from its number and name (and `company`).
    The new campaign links to its origin and copies its sending settings. Written in one transaction: when nobody
    is left to resend to, a UserError and nothing written."""
    only = resend_outcomes(",".join(only))
    audit.authorize(ledger, tenant_id, "campaign.resend")
    origin = get_campaign(ledger, tenant_id, campaign_id)
    if template is not None:
        _resend_template(template)
    title = (name or "").strip() or f"{origin.name} (resend)"
    settings = {"max_attempts": origin.max_attempts, "retry_base_seconds": origin.retry_base_seconds,
                "rate_limit_per_s": origin.rate_limit_per_s, "failure_streak_pause": origin.failure_streak_pause}
    with ledger.write() as con:
        rows = con.execute(
            load_sql("sender/resend_candidates.sql"),
            {"tenant_id": tenant_id, "campaign_id": campaign_id, "outcomes": json.dumps(list(only)),
             "unreachable_codes": json.dumps(list(UNDELIVERABLE_NUMBER_CODES))},
        ).fetchall()
        chosen = [row for row in rows if row["left_out"] is None]
        excluded: dict[str, int] = {}
        for row in rows:
            if row["left_out"] is not None:
                excluded[row["left_out"]] = excluded.get(row["left_out"], 0) + 1
        if not chosen:
            left = f" ({', '.join(f'{n} {why}' for why, n in excluded.items())} left out)" if excluded else ""
            raise UserError(f"Campaign {campaign_id} has no {'/'.join(only)} recipients to resend to{left}.")
        frame = _resend_frame(chosen)
        bodies = (frame["body"] if template is None else render_many(template, frame, company or {}))
        new_id = _insert_campaign(con, tenant_id, title, "manual", "{}", template or origin.template_body,
                                  settings)
        con.execute(load_sql("sender/campaign_set_origin.sql"),
                    {"tenant_id": tenant_id, "campaign_id": new_id, "origin_campaign_id": campaign_id})
        _set_send_rules(con, tenant_id, new_id, {"quiet_hours": origin.quiet_hours, "on_cap": origin.on_cap})
        _insert_recipients_in(con, new_id, frame, bodies.reset_index(drop=True))
        return audit.campaign(con, "resend", _finish_launch_in(con, tenant_id, new_id, excluded))


def _resend_frame(rows: list[sqlite3.Row]) -> pd.DataFrame:
    """The chosen recipients as render rows: stored number, name (split in first and last) and body."""
    names = pd.Series([row["full_name"] or "" for row in rows], dtype="str")
    split = names.str.split(" ", n=1, expand=True).reindex(columns=[0, 1]).astype(object).fillna("")
    return pd.DataFrame({
        "customer_id": pd.Series([row["customer_id"] for row in rows], dtype="Int64"),
        "phone_e164": [row["phone_e164"] for row in rows],
        "full_name": names,
        "first_name": split[0],
        "last_name": split[1],
        "body": [row["body"] for row in rows],
    })


def pause(ledger: Ledger, tenant_id: int, campaign_id: int, reason: str = "paused by a person") -> Campaign:
    """Stops sending after the chunk in flight; nothing is lost, resume picks up where it stopped.

    Idempotent: an already paused campaign stays paused with its first reason. A draft, cancelled or completed
    campaign cannot be paused (UserError)."""
    with ledger.write() as con:
        return audit.campaign(con, "pause", transition(con, tenant_id, campaign_id, "pause", reason=reason))


def resume(ledger: Ledger, tenant_id: int, campaign_id: int) -> Campaign:
    """Re-queues a paused campaign (a new generation, so the sensor launches a new send run); refused with the
    numbers while its tenant's SMS credits do not cover its unsent recipients."""
    with ledger.write() as con:
        credits.refuse_short(con, tenant_id, campaign_id, "resume")
        return audit.campaign(con, "resume", transition(con, tenant_id, campaign_id, "resume", new_generation=True))


def cancel(ledger: Ledger, tenant_id: int, campaign_id: int) -> Campaign:
    """Stops the campaign for good: its unsent recipients are skipped ('cancelled')."""
    with ledger.write() as con:
        campaign = audit.campaign(con, "cancel", transition(con, tenant_id, campaign_id, "cancel"))
        con.execute(
            load_sql("sender/recipients_cancel_pending.sql"), {"campaign_id": campaign_id, "now": time.time()}
        )
        return campaign


def miss_schedule_in(con: sqlite3.Connection, tenant_id: int, campaign_id: int, now: float) -> Campaign:
    """Inside a write transaction: cancels a campaign whose schedule was missed, with the reason (`missed_schedule:
    scheduled ..., checked ..., max lateness ...`); its unsent recipients are skipped as `missed_schedule`."""
    current = Campaign.from_row(_select(con, tenant_id, campaign_id))
    row = con.execute(load_sql("ledger/queries/tenant_settings_get.sql"), {"tenant_id": tenant_id}).fetchone()
    reason = missed_reason(current.send_at or 0.0, current.max_lateness_s, now, row["timezone"] if row else None)
    con.execute(load_sql("sender/recipients_skip_missed.sql"), {"campaign_id": campaign_id, "now": now})
    return transition(con, tenant_id, campaign_id, "cancel", reason=reason)


def expire_missed_schedules(ledger: Ledger, tenant_id: int, now: float | None = None) -> list[Campaign]:
    """Cancels the tenant's queued campaigns that never started and are later than send time + max lateness at
    `now` (the send sensor calls it each tick): a stale schedule is never sent, and says why."""
    moment = time.time() if now is None else now
    keys = {"tenant_id": tenant_id, "now": moment}
    with ledger.read() as con:
        if not con.execute(load_sql("sender/schedule_missed.sql"), keys).fetchall():
            return []
    with ledger.write() as con:  # selected again: a run may have started one meanwhile
        ids = [row[0] for row in con.execute(load_sql("sender/schedule_missed.sql"), keys).fetchall()]
        return [miss_schedule_in(con, tenant_id, campaign_id, moment) for campaign_id in ids]


def tenant_ids(ledger: Ledger) -> list[int]:
    """Every tenant the ledger knows, in id order."""
    with ledger.read() as con:
        return [row[0] for row in con.execute(load_sql("sender/tenant_ids.sql")).fetchall()]


def tenant_campaigns_needing_run(ledger: Ledger, tenant_id: int, now: float | None = None) -> list[tuple[int, int]]:
    """(campaign_id, generation) of the tenant's queued or sending campaigns that a send run should work now:
    queued, a retry due, or a recipient stranded past its lease; paused campaigns wait for their resume."""
    moment = time.time() if now is None else now
    with ledger.read() as con:
        rows = con.execute(
            load_sql("sender/sensor_campaigns_to_run.sql"), {"tenant_id": tenant_id, "now": moment}
        ).fetchall()
    return [(row["campaign_id"], row["generation"]) for row in rows]


def campaigns_needing_run(ledger: Ledger, now: float | None = None) -> list[tuple[int, int, int]]:
    """(tenant_id, campaign_id, generation) of every campaign a send run should work now, tenant by tenant."""
    moment = time.time() if now is None else now
    return [
        (tenant_id, campaign_id, generation)
        for tenant_id in tenant_ids(ledger)
        for campaign_id, generation in tenant_campaigns_needing_run(ledger, tenant_id, moment)
    ]
