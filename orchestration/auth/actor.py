"""Who is acting: the person or process behind a core call, read by the permission check and the audit log.

The console sets the signed-in user around each page run, the CLI sets `cli:<os user>` around each command;
anything else (Dagster runs, sensors, the callback receiver) acts as `system`."""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """A signed-in user (with a role, and a tenant unless an operator), or a process on the machine (role None)."""

    name: str
    role: str | None = None
    tenant_id: int | None = None
    user_id: int | None = None


SYSTEM = Actor("system")

current_actor: ContextVar[Actor] = ContextVar("current_actor", default=SYSTEM)


def current() -> Actor:
    return current_actor.get()


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Everything inside the block is done (and audited) as `actor`."""
    token = current_actor.set(actor)
    try:
        yield actor
    finally:
        current_actor.reset(token)


def cli_actor() -> Actor:
    """The person at the shell: `cli:<os user>` (the CLI runs with the home folder's own file access)."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = f"uid{os.getuid()}"
    return Actor(f"cli:{user}")
