"""Gathers each domain's definitions (sync, audiences, sending) into the code location's one Definitions."""

import dagster as dg

from orchestration.defs.resources import resources_for

defs = dg.Definitions.merge(
    dg.Definitions(resources=resources_for()),
)
