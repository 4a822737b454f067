"""Sending: the campaign lifecycle, the send engine (claim, send, record, reconcile) and the delivery log."""

from orchestration.sender.campaigns import (
    STATES,
    TRANSITIONS,
    Campaign,
    CampaignSettings,
    campaigns_needing_run,
    cancel,
    create_campaign,
    get_campaign,
    launch,
    list_campaigns,
    pause,
    resume,
    tenant_campaigns_needing_run,
    tenant_ids,
)
from orchestration.sender.engine import CampaignRun, RunSummary
from orchestration.sender.manual import read_people_csv, send_manual, send_test
from orchestration.sender.reports import (
    CampaignStatus,
    Progress,
    attempts_of,
    delivery_log,
    export_csv,
    progress,
    status,
)
from orchestration.sender.runner import gateway_for, run_campaign

__all__ = [
    "STATES",
    "TRANSITIONS",
    "Campaign",
    "CampaignRun",
    "CampaignSettings",
    "CampaignStatus",
    "Progress",
    "RunSummary",
    "attempts_of",
    "campaigns_needing_run",
    "cancel",
    "create_campaign",
    "delivery_log",
    "export_csv",
    "gateway_for",
    "get_campaign",
    "launch",
    "list_campaigns",
    "pause",
    "progress",
    "read_people_csv",
    "resume",
    "run_campaign",
    "send_manual",
    "send_test",
    "status",
    "tenant_campaigns_needing_run",
    "tenant_ids",
]
