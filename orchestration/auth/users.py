"""Console users in the ledger: add, list, disable, reset a password; each change checked and audited."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from orchestration.auth import audit, passwords, permissions
from orchestration.auth.actor import Actor, current
from orchestration.auth.permissions import ROLES, require
from orchestration.errors import UserError
from orchestration.ledger.store import Ledger
from orchestration.sqlfiles import load_sql
from orchestration.tenants.settings import check_tenant_id, ensure_tenant_row

MAX_EMAIL = 254
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[^@\s'\";\\]+@{_LABEL}(?:\.{_LABEL})+$")


@dataclass(frozen=True)
class User:
    """One console user (no password hash: it never leaves this module)."""

    user_id: int
    email: str
    role: str
    tenant_id: int | None
    disabled: bool
    failed_sign_ins: int
    locked_until: float
    created_at: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> User:
        return cls(row["user_id"], row["email"], row["role"], row["tenant_id"], bool(row["disabled"]),
                   row["failed_sign_ins"], row["locked_until"], row["created_at"])

    def as_actor(self) -> Actor:
        return Actor(self.email, role=self.role, tenant_id=self.tenant_id, user_id=self.user_id)

    def sees(self, tenant_id: int) -> bool:
        """True when the user may see `tenant_id` (an operator sees every tenant)."""
        return self.role == "operator" or self.tenant_id == tenant_id


def check_email(raw: object) -> str:
    """The email, trimmed and lower-cased, or a UserError (a quote, a space or a semicolon is never one)."""
    email = raw.strip().lower() if isinstance(raw, str) else ""
    if not email:
        raise UserError("Give an email address.")
    if len(email) > MAX_EMAIL or not _EMAIL.match(email):
        shown = email if len(email) <= 80 else email[:77] + "..."
        raise UserError(f"Not an email address: {shown!r}.")
    return email


def check_role(role: object, tenant_id: object) -> tuple[str, int | None]:
    """(role, tenant) when they fit together: an operator has no tenant, an admin or analyst exactly one."""
    if role not in ROLES:
        raise UserError(f"Unknown role {role!r}; use one of {', '.join(ROLES)}.")
    if role == "operator":
        if tenant_id is not None:
            raise UserError("An operator sees every tenant: give no --tenant.")
        return "operator", None
    if tenant_id is None:
        raise UserError(f"An {role} belongs to one tenant: give --tenant.")
    return str(role), check_tenant_id(tenant_id)


def _row(con: sqlite3.Connection, email: str) -> sqlite3.Row:
    row = con.execute(load_sql("auth/user_by_email.sql"), {"email": email}).fetchone()
    if row is None:
        raise UserError(f"No user with email {email!r}.")
    return row


def _may_manage(con: sqlite3.Connection, tenant_id: int | None) -> None:
    """Only an operator (or the CLI) manages operators; an admin manages the users of its own tenant."""
    who = current()
    if tenant_id is None and who.role not in (None, "operator"):
        raise UserError(f"{who.name} ({who.role}) may not manage operator accounts.")
    require(con, who, "users.manage", tenant_id)


def add_user(ledger: Ledger, email: str, role: str, tenant_id: int | None, password: str) -> User:
    """A new user; the password is checked and hashed before anything is written."""
    email = check_email(email)
    role, tenant = check_role(role, tenant_id)
    password_hash = passwords.hash_password(password)
    with ledger.write() as con:
        _may_manage(con, tenant)
        if con.execute(load_sql("auth/user_by_email.sql"), {"email": email}).fetchone() is not None:
            raise UserError(f"A user with email {email!r} exists already.")
        if tenant is not None:
            ensure_tenant_row(con, tenant)
        con.execute(load_sql("auth/user_insert.sql"),
                    {"email": email, "role": role, "tenant_id": tenant, "password_hash": password_hash})
        audit.record(con, tenant, "user.add", email, role)
        return User.from_row(_row(con, email))


def get_user(ledger: Ledger, email: str) -> User:
    email = check_email(email)
    with ledger.read() as con:
        return User.from_row(_row(con, email))


def user_by_id(ledger: Ledger, user_id: int) -> User | None:
    with ledger.read() as con:
        row = con.execute(load_sql("auth/user_by_id.sql"), {"user_id": user_id}).fetchone()
    return User.from_row(row) if row else None


def list_users(ledger: Ledger, tenant_id: int | None = None) -> list[User]:
    """Every user, or the users of one tenant."""
    with ledger.read() as con:
        return [User.from_row(r) for r in con.execute(load_sql("auth/user_list.sql"), {"tenant_id": tenant_id})]


def set_disabled(ledger: Ledger, email: str, disabled: bool = True) -> User:
    """Disable (or enable again) a user; disabling ends every session of the user at its next action."""
    email = check_email(email)
    with ledger.write() as con:
        user = User.from_row(_row(con, email))
        _may_manage(con, user.tenant_id)
        con.execute(load_sql("auth/user_set_disabled.sql"), {"user_id": user.user_id, "disabled": int(disabled)})
        if disabled:
            con.execute(load_sql("auth/sessions_revoke_user.sql"), {"user_id": user.user_id})
        audit.record(con, user.tenant_id, "user.disable" if disabled else "user.enable", email)
        return User.from_row(_row(con, email))


def reset_password(ledger: Ledger, email: str, password: str) -> User:
    """A new password (also lifts a sign-in lock); the user's sessions end."""
    email = check_email(email)
    password_hash = passwords.hash_password(password)
    with ledger.write() as con:
        user = User.from_row(_row(con, email))
        _may_manage(con, user.tenant_id)
        con.execute(load_sql("auth/user_set_password.sql"), {"user_id": user.user_id, "password_hash": password_hash})
        con.execute(load_sql("auth/sessions_revoke_user.sql"), {"user_id": user.user_id})
        audit.record(con, user.tenant_id, "user.reset_password", email)
        return User.from_row(_row(con, email))


def set_analysts_may_launch(ledger: Ledger, tenant_id: int, allowed: bool) -> None:
    """The tenant's admin decides whether its analysts may launch campaigns and manual sends."""
    tenant = check_tenant_id(tenant_id)
    with ledger.write() as con:
        require(con, current(), "settings.change", tenant)
        ensure_tenant_row(con, tenant)
        con.execute(load_sql("auth/tenant_access_set.sql"), {"tenant_id": tenant, "analysts_may_launch": int(allowed)})
        audit.record(con, tenant, "settings.analysts_may_launch", f"tenant {tenant}", "yes" if allowed else "no")


def analysts_may_launch(ledger: Ledger, tenant_id: int) -> bool:
    """Whether the tenant's admin lets its analysts launch (default: no)."""
    with ledger.read() as con:
        return permissions.analysts_may_launch(con, tenant_id)
