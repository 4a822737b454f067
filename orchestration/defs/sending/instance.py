"""The Dagster instance's settings for sending: at most one run per campaign (a tag concurrency limit)."""

from __future__ import annotations

from pathlib import Path

import yaml

from orchestration.config import Home

CAMPAIGN_TAG = "bkntc/campaign"
TENANT_TAG = "bkntc/tenant"
GENERATION_TAG = "bkntc/generation"
STOPPED_TAG = "bkntc/stopped"  # why the run ended: completed, paused, cancelled, waiting, lost, busy, failed
LAUNCHED_BY_TAG = "bkntc/launched_by"  # who asked for the run: a CLI user, "console", "send_queue_sensor"
REASON_TAG = "bkntc/reason"  # what asked for it: launch, resume, manual, resend, run, retry


def instance_settings() -> dict:
    """dagster.yaml: queued runs, limited to one in progress per unique campaign tag value."""
    return {
        "run_coordinator": {
            "module": "dagster.core.run_coordinator",
            "class": "QueuedRunCoordinator",
            "config": {
                "max_concurrent_runs": 8,
                "tag_concurrency_limits": [
                    {"key": CAMPAIGN_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1},
                ],
            },
        },
        "telemetry": {"enabled": False},
    }


def write_instance_config(home: Home) -> Path:
    """Writes `dagster.yaml` into the home's Dagster instance folder (DAGSTER_HOME); returns its path."""
    home.ensure()
    path = home.dagster_home / "dagster.yaml"
    path.write_text(yaml.safe_dump(instance_settings(), sort_keys=False), encoding="utf-8")
    return path
