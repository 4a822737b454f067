"""Dagster's PostgreSQL storage (dagster-postgres) on the psycopg2 driver it is written for.

SQLAlchemy 2.1 connects `postgresql://` URLs with psycopg 3, whose server-side parameters PostgreSQL refuses in
the `NOTIFY run_events, :id` that dagster-postgres sends with every event it stores (a syntax error at `$1`): no run
could record an event. dagster.yaml names this class (`storage: custom:`), which reads the same `postgres_url` and
gives it to dagster-postgres as `postgresql+psycopg2://`. A URL that names its driver already is left as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from dagster._serdes import ConfigurableClassData
from dagster_postgres import DagsterPostgresStorage

PLAIN_SCHEME = re.compile(r"^postgres(?:ql)?://")


def with_psycopg2(url: str) -> str:
    """The URL with SQLAlchemy's psycopg2 driver named (`postgresql+psycopg2://...`) unless it names one."""
    return PLAIN_SCHEME.sub("postgresql+psycopg2://", url, count=1)


class PostgresStorage(DagsterPostgresStorage):
    """dagster-postgres's run, event-log and schedule storage, its URL on psycopg2."""

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> DagsterPostgresStorage:
        config = dict(config_value)
        if isinstance(config.get("postgres_url"), str):
            config["postgres_url"] = with_psycopg2(config["postgres_url"])
        return super().from_config_value(inst_data, config)
