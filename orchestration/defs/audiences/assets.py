"""The materialized segments: one warehouse view per ready segment over its members table, published together by
one writer."""

from datetime import UTC, datetime

import dagster as dg

from orchestration.audiences import SEGMENTS, materialize_segments, members_table, parse_as_of, table_name
from orchestration.defs.resources import HomeResource

GROUP = "audiences"
# The cleaned-layer tables the segment definitions read (asset keys of the sync).
UPSTREAM = ("customers", "appointments", "services", "locations", "staff", "tenants", "customer_facts")


class SegmentsConfig(dg.Config):
    """`as_of`: ISO-8601 instant the windows are relative to; empty = now (UTC)."""

    as_of: str = ""


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            table_name(name),
            group_name=GROUP,
            deps=list(UPSTREAM),
            description=f"{segment.label}: {segment.description} Default parameters {segment.defaults or '-'}; "
            f"one row per member and tenant, `exclusion` NULL for recipients; a view giving the members stored in "
            f"`{members_table(name)}` their details from the warehouse tables.",
            kinds={"duckdb"},
        )
        for name, segment in SEGMENTS.items()
    ],
)
def segments(context: dg.AssetExecutionContext, config: SegmentsConfig, home: HomeResource):
    """Rewrites every segment (members table and view) for every tenant in one copy-on-write unit of the warehouse."""
    as_of = parse_as_of(config.as_of) or datetime.now(UTC).replace(microsecond=0)
    with home.warehouse().writer() as con:
        sizes = materialize_segments(con, as_of)
    for name, per_tenant in sizes.items():
        yield dg.MaterializeResult(
            asset_key=table_name(name),
            metadata={
                "as_of": dg.MetadataValue.text(as_of.isoformat()),
                "recipients": dg.MetadataValue.int(sum(t["recipients"] for t in per_tenant.values())),
                "members": dg.MetadataValue.int(sum(t["members"] for t in per_tenant.values())),
                "per_tenant": dg.MetadataValue.json({str(tenant): counts for tenant, counts in per_tenant.items()}),
            },
        )
    context.log.info("Materialized %d segments as of %s", len(sizes), as_of.isoformat())
