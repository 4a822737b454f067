"""The Dagster code location: wires the domain core into assets, checks, jobs, schedules and sensors.

`defs` is built on first use (module `__getattr__`), so that importing one domain's module, such as the send job a
foreground `campaign run` executes, does not load every domain's definitions."""

from __future__ import annotations

__all__ = ["defs"]


def __getattr__(name: str):
    if name == "defs":
        from orchestration.defs.definitions import defs

        globals()["defs"] = defs
        return defs
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "defs"})
