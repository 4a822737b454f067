"""Materializes every ready segment (default parameters, all tenants) as a `segment_<name>` warehouse table."""

from __future__ import annotations

from datetime import datetime

import duckdb

from orchestration.audiences.query import AudienceQuery, bind
from orchestration.audiences.segments import SEGMENTS
from orchestration.sqlfiles import load_sql


def table_name(segment_name: str) -> str:
    """The warehouse table of a materialized segment."""
    return f"segment_{segment_name}"


def materialize_segments(con: duckdb.DuckDBPyConnection, as_of: datetime) -> dict[str, dict[int, dict[str, int]]]:
    """(Re)writes one table per ready segment on a warehouse writer connection, all tenants at once; returns
    {segment: {tenant_id: {"members": n, "recipients": n}}}.

    One pass finds every segment's members (sql/segments/materialize/memberships.sql: the predicates of the
    segment definitions with default parameters and no filter) and classifies them all; each table then takes its
    rows with their details (anchored.sql, as previews and sends show them).

    Rows: tenant_id, the recipient columns, `exclusion` (NULL = recipient; the suppression list is left to
    preview and send time, since it changes between materializations) and `as_of`."""
    moment = int(AudienceQuery(0, "all_customers", as_of=as_of).as_of_utc().timestamp())
    values = {"as_of": moment, **{f"{name}_{parameter}": value for name, segment in SEGMENTS.items()
                                  for parameter, value in segment.defaults.items()}}  # fmt: skip
    memberships = load_sql("segments/materialize/memberships.sql")
    con.execute(f"CREATE OR REPLACE TEMP TABLE segment_memberships AS {memberships}", bind(memberships, values))
    con.execute(f"CREATE OR REPLACE TEMP TABLE segment_classified AS {load_sql('segments/materialize/classified.sql')}")
    rows = f"WITH selected_members AS ({load_sql('segments/materialize/segment_members.sql')})\n" \
           f"{load_sql('segments/anchored.sql')}"
    sizes: dict[str, dict[int, dict[str, int]]] = {}
    for name in SEGMENTS:
        table = table_name(name)
        con.execute(f"CREATE OR REPLACE TABLE {table} AS {rows}", bind(rows, {"segment": name, "as_of": moment}))
        con.execute(f"CREATE OR REPLACE TEMP VIEW segment_table AS SELECT * FROM {table}")
        counted = con.execute(load_sql("segments/materialized_counts.sql")).fetchall()
        sizes[name] = {tenant: {"members": members, "recipients": recips} for tenant, members, recips in counted}
    for temporary in ("segment_table", "segment_classified", "segment_memberships"):
        con.execute(f"DROP {'VIEW' if temporary == 'segment_table' else 'TABLE'} {temporary}")
    return sizes
