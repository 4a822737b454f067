"""Materializes every ready segment (default parameters, all tenants) as a `segment_<name>` warehouse table."""

from __future__ import annotations

from datetime import datetime

import duckdb

from orchestration.audiences.query import AudienceQuery, bind, bound_values, segment_sql
from orchestration.audiences.segments import SEGMENTS
from orchestration.audiences.suppression import no_suppressed_numbers
from orchestration.sqlfiles import load_sql


def table_name(segment_name: str) -> str:
    """The warehouse table of a materialized segment."""
    return f"segment_{segment_name}"


def materialize_segments(con: duckdb.DuckDBPyConnection, as_of: datetime) -> dict[str, dict[int, dict[str, int]]]:
    """(Re)writes one table per ready segment on a warehouse writer connection with the same definitions previews
    use, all tenants in one statement (every definition is keyed by tenant); returns
    {segment: {tenant_id: {"members": n, "recipients": n}}}.

    Rows: tenant_id, the recipient columns, `exclusion` (NULL = recipient; the suppression list is left to
    preview and send time, since it changes between materializations) and `as_of`."""
    tenants = [r[0] for r in con.execute(load_sql("segments/known_tenants.sql")).fetchall()]
    con.register("suppressed_numbers", no_suppressed_numbers())
    sizes: dict[str, dict[int, dict[str, int]]] = {}
    for name in SEGMENTS:
        table = table_name(name)
        query = AudienceQuery(0, name, as_of=as_of)
        sql = segment_sql(query, "members")
        con.execute(f"CREATE OR REPLACE TABLE {table} AS {sql}", bind(sql, bound_values(query, tenant_ids=tenants)))
        con.execute(f"CREATE OR REPLACE TEMP VIEW segment_table AS SELECT * FROM {table}")
        counted = con.execute(load_sql("segments/materialized_counts.sql")).fetchall()
        sizes[name] = {tenant: {"members": members, "recipients": recips} for tenant, members, recips in counted}
    con.unregister("suppressed_numbers")
    return sizes
