"""The campaign asset: one dynamic partition per campaign (`t<tenant>-c<campaign>`), materialized by every send run
with the campaign's totals, message, audience and launcher; its page in the Dagster UI is the campaign's audit trail."""

import re

import dagster as dg

from orchestration.defs.resources import HomeResource
from orchestration.defs.sending.instance import LAUNCHED_BY_TAG, REASON_TAG
from orchestration.gateway.errors import error_meaning
from orchestration.ledger import Ledger
from orchestration.sender import status

CAMPAIGN_PARTITIONS = dg.DynamicPartitionsDefinition(name="campaigns")
CAMPAIGN_ASSET = dg.AssetKey("campaign")
_KEY = re.compile(r"^t(\d+)-c(\d+)$")


def partition_key(tenant_id: int, campaign_id: int) -> str:
    """The campaign's partition of the campaign asset, e.g. `t1-c42`."""
    return f"t{tenant_id}-c{campaign_id}"


def parse_partition_key(key: str) -> tuple[int, int]:
    """(tenant_id, campaign_id) of a partition key made by `partition_key`."""
    found = _KEY.match(key)
    if found is None:
        raise dg.Failure(description=f"Not a campaign partition key: {key!r} (expected t<tenant>-c<campaign>).")
    return int(found[1]), int(found[2])


def ensure_partition(instance: dg.DagsterInstance, tenant_id: int, campaign_id: int) -> str:
    """Adds the campaign's partition to the instance when it is not there yet; returns its key."""
    key = partition_key(tenant_id, campaign_id)
    if not instance.has_dynamic_partition(CAMPAIGN_PARTITIONS.name, key):
        instance.add_dynamic_partitions(CAMPAIGN_PARTITIONS.name, [key])
    return key


def campaign_metadata(ledger: Ledger, tenant_id: int, campaign_id: int) -> dict[str, dg.MetadataValue]:
    """Campaign-level totals as the ledger has them now: recipients by state, segments, error codes with their
    meanings, delivery totals, the message and the audience with every filter (never credentials)."""
    current = status(ledger, tenant_id, campaign_id)
    campaign, counts, delivery = current.campaign, current.counts, current.delivery
    codes = {code: {"attempts": n, "meaning": error_meaning(int(code)) if code.isdigit() else None}
             for code, n in current.error_codes.items()}  # fmt: skip
    return {
        "tenant_id": dg.MetadataValue.int(tenant_id),
        "campaign_id": dg.MetadataValue.int(campaign_id),
        "name": dg.MetadataValue.text(campaign.name),
        "kind": dg.MetadataValue.text(campaign.kind),
        "state": dg.MetadataValue.text(campaign.state),
        "pause_reason": dg.MetadataValue.text(campaign.pause_reason or ""),
        "generation": dg.MetadataValue.int(campaign.generation),
        "recipients": dg.MetadataValue.int(campaign.recipient_count),
        "sent": dg.MetadataValue.int(counts["sent"]),
        "failed": dg.MetadataValue.int(counts["failed"]),
        "skipped": dg.MetadataValue.int(counts["skipped"]),
        "pending": dg.MetadataValue.int(counts["pending"] + counts["sending"]),
        "skipped_by_reason": dg.MetadataValue.json(current.skipped_by_reason),
        "segments_sent": dg.MetadataValue.int(current.segments_sent),
        "attempts": dg.MetadataValue.int(current.attempts),
        "retries": dg.MetadataValue.int(current.retries),
        "error_codes": dg.MetadataValue.json(codes),
        "delivered": dg.MetadataValue.int(delivery.get("delivered", 0)),
        "undelivered": dg.MetadataValue.int(delivery.get("undelivered", 0)),
        "delivery_failed": dg.MetadataValue.int(delivery.get("failed", 0)),
        "delivery_unknown": dg.MetadataValue.int(delivery.get("unknown", 0)),
        "delivery": dg.MetadataValue.json(delivery),
        "template": dg.MetadataValue.text(campaign.template_body),
        "audience": dg.MetadataValue.json(campaign.audience or {"manual": True}),
        "excluded": dg.MetadataValue.json(campaign.excluded),
        "created_at": dg.MetadataValue.text(campaign.created_at),
        "launched_at": dg.MetadataValue.text(campaign.launched_at or ""),
        "finished_at": dg.MetadataValue.text(campaign.finished_at or ""),
    }


@dg.asset(
    key=CAMPAIGN_ASSET,
    partitions_def=CAMPAIGN_PARTITIONS,
    group_name="sending",
    kinds={"sqlite"},
    description="One partition per campaign (t<tenant>-c<campaign>). Every send run records the campaign's totals "
    "here; materializing a partition by hand re-reads its totals from the ledger (late delivery reports) and "
    "sends nothing.",
)
def campaign(context: dg.AssetExecutionContext, home: HomeResource) -> dg.MaterializeResult:
    """The campaign's totals from the ledger, without sending (the send job records them after every run)."""
    tenant_id, campaign_id = parse_partition_key(context.partition_key)
    metadata = campaign_metadata(home.ledger(), tenant_id, campaign_id)
    launched = {"launched_by": dg.MetadataValue.text(context.run.tags.get(LAUNCHED_BY_TAG, "dagster")),
                "reason": dg.MetadataValue.text(context.run.tags.get(REASON_TAG, "refresh"))}  # fmt: skip
    return dg.MaterializeResult(metadata={**metadata, **launched})
