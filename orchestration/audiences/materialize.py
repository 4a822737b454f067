"""Materializes every ready segment (default parameters, all tenants) as a `segment_<name>` warehouse view."""

from __future__ import annotations

from datetime import datetime

import duckdb

from orchestration.audiences.query import AudienceQuery, bind
from orchestration.audiences.segments import SEGMENTS
from orchestration.sqlfiles import load_sql


def table_name(segment_name: str) -> str:
    """The warehouse view of a materialized segment: its members with their details."""
    return f"segment_{segment_name}"


def members_table(segment_name: str) -> str:
    """The warehouse table of a materialized segment's members, which its view (`table_name`) reads."""
    return f"segment_{segment_name}_members"


def materialize_segments(con: duckdb.DuckDBPyConnection, as_of: datetime) -> dict[str, dict[int, dict[str, int]]]:
    """(Re)writes every ready segment on a warehouse writer connection, all tenants at once; returns
    {segment: {tenant_id: {"members": n, "recipients": n}}}.

    One pass finds every segment's members (sql/segments/materialize/memberships.sql: the predicates of the
    segment definitions with default parameters and no filter) and classifies them all. Each segment then gets
    a narrow table of its members (`members_table`: tenant_id, customer_id, anchor_appointment_id, `exclusion`
    (NULL = recipient; the suppression list is left to preview and send time, since it changes between
    materializations) and `as_of`), and a view (`table_name`) giving each of them the details of anchored.sql
    (names, phone, anchor appointment, service, staff, location) from the warehouse tables of the same file: the
    rows and columns the wide tables had, without writing every recipient's details eight times."""
    moment = int(AudienceQuery(0, "all_customers", as_of=as_of).as_of_utc().timestamp())
    values = {"as_of": moment, **{f"{name}_{parameter}": value for name, segment in SEGMENTS.items()
                                  for parameter, value in segment.defaults.items()}}  # fmt: skip
    memberships = load_sql("segments/materialize/memberships.sql")
    con.execute(f"CREATE OR REPLACE TEMP TABLE segment_memberships AS {memberships}", bind(memberships, values))
    con.execute(f"CREATE OR REPLACE TEMP TABLE segment_classified AS {load_sql('segments/materialize/classified.sql')}")
    members_sql = load_sql("segments/materialize/segment_members.sql")
    details = load_sql("segments/materialize/details.sql")
    stored = {row[0] for row in con.execute(load_sql("segments/materialize/stored_tables.sql"),
                                            {"names": [table_name(name) for name in SEGMENTS]}).fetchall()}  # fmt: skip
    sizes: dict[str, dict[int, dict[str, int]]] = {}
    for name in SEGMENTS:
        view, table = table_name(name), members_table(name)
        values = {"segment": name, "as_of": moment}
        con.execute(f"CREATE OR REPLACE TABLE {table} AS {members_sql}", bind(members_sql, values))
        if view in stored:  # a wide table written before the views
            con.execute(f"DROP TABLE {view}")
        con.execute(f"CREATE OR REPLACE VIEW {view} AS WITH selected_members AS (SELECT * FROM {table})\n{details}")
        con.execute(f"CREATE OR REPLACE TEMP VIEW segment_table AS SELECT * FROM {table}")
        counted = con.execute(load_sql("segments/materialized_counts.sql")).fetchall()
        sizes[name] = {tenant: {"members": members, "recipients": recips} for tenant, members, recips in counted}
    for temporary in ("segment_table", "segment_classified", "segment_memberships"):
        con.execute(f"DROP {'VIEW' if temporary == 'segment_table' else 'TABLE'} {temporary}")
    return sizes
