"""Runs one campaign's send engine for a tenant from a home folder: the one entry point of the CLI, console and
Dagster op."""

from __future__ import annotations

import math
import os
from collections.abc import Callable

from orchestration.config import Home
from orchestration.errors import UserError
from orchestration.gateway import Gateway
from orchestration.ledger import Ledger
from orchestration.sender.campaigns import freeze_at_send, get_campaign, pause
from orchestration.sender.engine import CampaignRun, RunSummary
from orchestration.tenants import TokenCipher, load_twilio
from orchestration.warehouse import Warehouse

HTTP_TIMEOUT_ENV = "BKNTC_SMS_HTTP_TIMEOUT"
DEFAULT_HTTP_TIMEOUT_S = 10.0


def http_timeout() -> float:
    """Seconds to wait for Twilio's answer to one request ($BKNTC_SMS_HTTP_TIMEOUT, default 10)."""
    return float(os.environ.get(HTTP_TIMEOUT_ENV) or DEFAULT_HTTP_TIMEOUT_S)


def gateway_for(home: Home, ledger: Ledger, tenant_id: int) -> Gateway:
    """The tenant's gateway, from its stored (encrypted) credentials."""
    credentials = load_twilio(ledger, tenant_id, TokenCipher.for_home(home))
    return Gateway.for_tenant(credentials, timeout=http_timeout())


def run_campaign(
    home: Home,
    tenant_id: int,
    campaign_id: int,
    *,
    max_wait_s: float = math.inf,
    on_chunk: Callable[[RunSummary], None] | None = None,
    now: float | None = None,
) -> RunSummary:
    """Works the campaign until it completes, pauses, is cancelled, or its next retry is beyond `max_wait_s`; a
    scheduled one only from its send time (checked against `now`, default the clock), its audience frozen then
    from the home's warehouse when it was scheduled so.

    Missing or unreadable credentials pause the campaign with the reason (a retry could not help), then raise."""
    ledger = Ledger(home.ledger)
    campaign = get_campaign(ledger, tenant_id, campaign_id)
    try:
        gateway = gateway_for(home, ledger, tenant_id)
    except UserError as exc:
        if campaign.state in ("queued", "sending"):
            pause(ledger, tenant_id, campaign_id, reason=str(exc))
        raise
    def freeze() -> None:
        freeze_at_send(ledger, Warehouse(home.warehouse), tenant_id, campaign_id)

    return CampaignRun(ledger, tenant_id, campaign_id, gateway, max_wait_s=max_wait_s, on_chunk=on_chunk,
                       freeze=freeze, now=now).run()  # fmt: skip
