"""The Dagster code location: wires the domain core into assets, checks, jobs, schedules and sensors."""

from orchestration.defs.definitions import defs

__all__ = ["defs"]
