"""What each role may do: one table of actions, checked by the audit log's `record` inside every audited write.

`operator` may do everything in every tenant, and alone tops up SMS credits; `admin` everything else in its own
tenant; `analyst` the audience and compose work of its tenant, test sends, and the safe direction of risky actions
(adding a number to the suppression list, pausing). Launching, manual sends, resuming, cancelling and managing
recurring campaigns are an analyst's only when the tenant's admin allows it (`tenant_access.analysts_may_launch`).
Processes on the machine (the CLI, Dagster, the callback receiver: role None) are not people signed in to the
console and are not restricted here."""

from __future__ import annotations

import sqlite3

from orchestration.auth.actor import Actor
from orchestration.errors import UserError
from orchestration.sqlfiles import load_sql

ROLES = ("operator", "admin", "analyst")
LAUNCHING_ANALYST = "analyst if allowed"  # an analyst, when the tenant lets analysts launch

_ALL = frozenset(ROLES)
_ADMINS = frozenset({"operator", "admin"})
_OPERATORS = frozenset({"operator"})
_LAUNCHERS = frozenset({"operator", "admin", LAUNCHING_ANALYST})

PERMISSIONS: dict[str, frozenset[str]] = {
    "tenant.view": _ALL,
    "audience.preview": _ALL,
    "template.edit": _ALL,
    "send.test": _ALL,
    "campaign.pause": _ALL,
    "suppression.add": _ALL,
    "campaign.launch": _LAUNCHERS,
    "campaign.resume": _LAUNCHERS,
    "campaign.cancel": _LAUNCHERS,
    "campaign.resend": _LAUNCHERS,
    "send.manual": _LAUNCHERS,
    "suppression.remove": _ADMINS,
    "suppression.import": _ADMINS,
    "credentials.view": _ADMINS,
    "credentials.change": _ADMINS,
    "settings.change": _ADMINS,
    "users.manage": _ADMINS,
    "audit.view": _ADMINS,
    "credits.topup": _OPERATORS,
    "recurring.manage": _LAUNCHERS,
}


def analysts_may_launch(con: sqlite3.Connection, tenant_id: int) -> bool:
    row = con.execute(load_sql("auth/tenant_access_get.sql"), {"tenant_id": tenant_id}).fetchone()
    return bool(row and row[0])


def allows(actor: Actor, action: str, tenant_id: int | None, may_launch: bool = False) -> bool:
    """True when `actor` may do `action` to `tenant_id` (None: no one tenant, e.g. an operator account)."""
    if action not in PERMISSIONS:
        raise ValueError(f"unknown action {action!r}: add it to PERMISSIONS")
    if actor.role is None or actor.role == "operator":
        return True
    if actor.role not in ROLES or tenant_id is None or actor.tenant_id != tenant_id:
        return False
    roles = PERMISSIONS[action]
    return actor.role in roles or (actor.role == "analyst" and LAUNCHING_ANALYST in roles and may_launch)


def require(con: sqlite3.Connection, actor: Actor, action: str, tenant_id: int | None) -> None:
    """Nothing when allowed, else a UserError naming the action (the caller's transaction rolls back)."""
    launching = LAUNCHING_ANALYST in PERMISSIONS.get(action, ())
    may_launch = bool(launching and actor.role == "analyst" and tenant_id is not None
                      and analysts_may_launch(con, tenant_id))
    if not allows(actor, action, tenant_id, may_launch):
        where = "here" if tenant_id is None else f"in tenant {tenant_id}"
        hint = " (ask the tenant's admin to let analysts launch)" if launching and actor.role == "analyst" else ""
        raise UserError(f"{actor.name} ({actor.role}) may not do {action} {where}{hint}.")
