"""Occurrences of recurring campaigns: the campaign each due occurrence makes, and the ones waiting for their run.

An occurrence is made once (one row per definition and instant, in the transaction that queues its campaign):
a campaign queued for the occurrence's time, its audience frozen by its send run as of that time, so the audience
is evaluated afresh every time; people an earlier occurrence already has for the same appointment are left out
(`first_messages`). Only the latest due occurrence is made: after downtime, missed ones are not made up, and one
later than the definition's max lateness is skipped (said in the log)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from orchestration.ledger import Ledger
from orchestration.recurring.definitions import RecurringCampaign, active
from orchestration.sender.campaigns import Campaign, get_campaign, queue_scheduled_in
from orchestration.sender.schedule import Schedule, format_lateness
from orchestration.sqlfiles import load_sql
from orchestration.tenants import ensure_tenant


@dataclass(frozen=True)
class Occurrence:
    """One due occurrence: the campaign made for it, or why none was (`skipped`)."""

    recurring_id: int
    tenant_id: int
    occurrence_at: float
    campaign: Campaign | None = None
    skipped: str | None = None


@dataclass(frozen=True)
class Unstarted:
    """An occurrence's campaign queued and never started: the run to start (one per occurrence and generation)."""

    recurring_id: int
    occurrence_at: float
    tenant_id: int
    campaign_id: int
    generation: int

    @property
    def run_key(self) -> str:
        return f"recurring-{self.recurring_id}-{int(self.occurrence_at)}-g{self.generation}"


def occurrence_name(definition: RecurringCampaign, occurrence_at: float) -> str:
    local = datetime.fromtimestamp(occurrence_at, ZoneInfo(definition.timezone))
    return f"{definition.name} — {local:%Y-%m-%d %H:%M}"


def make_occurrence(ledger: Ledger, definition: RecurringCampaign, occurrence_at: float) -> Campaign:
    """The campaign of this occurrence, queued for its time (made once: a second call returns the first's)."""
    tenant = ensure_tenant(ledger, definition.tenant_id)
    keys = {"recurring_id": definition.recurring_id, "occurrence_at": occurrence_at}
    with ledger.write() as con:
        made = con.execute(load_sql("recurring/occurrence_get.sql"), keys).fetchone()
        if made is None:
            campaign = queue_scheduled_in(con, tenant, occurrence_name(definition, occurrence_at),
                                          definition.template_body, definition.audience_query(occurrence_at),
                                          Schedule(occurrence_at, definition.max_lateness_s))  # fmt: skip
            con.execute(load_sql("recurring/occurrence_insert.sql"), {**keys, "campaign_id": campaign.campaign_id})
            con.execute(load_sql("recurring/definition_evaluated.sql"), {**keys, "now": time.time()})
            return campaign
    return get_campaign(ledger, definition.tenant_id, made["campaign_id"])


def make_due(ledger: Ledger, now: float | None = None) -> list[Occurrence]:
    """Makes the latest due occurrence of every active recurring campaign, or skips it when it is later than the
    definition's max lateness at `now` (default: the clock)."""
    moment = time.time() if now is None else now
    done = []
    for definition in active(ledger):
        due = definition.latest_due(moment)
        if due is None:
            continue
        late = definition.max_lateness_s is not None and moment > due + definition.max_lateness_s
        if late:
            with ledger.write() as con:
                con.execute(load_sql("recurring/definition_evaluated.sql"),
                            {"recurring_id": definition.recurring_id, "occurrence_at": due, "now": moment})
            reason = (f"missed: checked {moment - due:.0f} s after its time, max lateness "
                      f"{format_lateness(definition.max_lateness_s)}")  # fmt: skip
            done.append(Occurrence(definition.recurring_id, definition.tenant_id, due, skipped=reason))
            continue
        campaign = make_occurrence(ledger, definition, due)
        done.append(Occurrence(definition.recurring_id, definition.tenant_id, due, campaign=campaign))
    return done


def unstarted(ledger: Ledger) -> list[Unstarted]:
    """Occurrences whose campaign is queued and was never started by a send run, oldest first."""
    with ledger.read() as con:
        rows = con.execute(load_sql("recurring/occurrences_unstarted.sql")).fetchall()
    return [Unstarted(row["recurring_id"], row["occurrence_at"], row["tenant_id"], row["campaign_id"],
                      row["generation"]) for row in rows]  # fmt: skip
