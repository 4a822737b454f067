"""Sign-in sessions: a password check with a lock after repeated failures, a random token whose hash is kept
in the ledger, and a re-check of the token (expiry, sign-out, a disabled user) on every use."""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from dataclasses import dataclass, field

from orchestration.auth import audit, passwords
from orchestration.auth.actor import Actor
from orchestration.auth.users import User, check_email
from orchestration.errors import UserError
from orchestration.ledger.store import Ledger
from orchestration.sqlfiles import load_sql

SESSION_HOURS_ENV = "BKNTC_SMS_SESSION_HOURS"
DEFAULT_SESSION_HOURS = 12.0
MAX_FAILURES = 5
LOCK_SECONDS = 15 * 60
WRONG = "Wrong email or password."


def session_seconds() -> float:
    """How long a sign-in lasts: $BKNTC_SMS_SESSION_HOURS (default 12 h)."""
    raw = os.environ.get(SESSION_HOURS_ENV, "").strip()
    try:
        hours = float(raw) if raw else DEFAULT_SESSION_HOURS
    except ValueError:
        raise UserError(f"{SESSION_HOURS_ENV} must be a number of hours, not {raw!r}.") from None
    if not 0 < hours <= 24 * 30:
        raise UserError(f"{SESSION_HOURS_ENV} must be between 0 and 720 hours, not {raw!r}.")
    return hours * 3600


@dataclass(frozen=True)
class Session:
    """A signed-in session: the token (shown to nobody, not even in repr) and the user as signed in."""

    token: str = field(repr=False)
    user: User
    expires_at: float


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _visible_email(raw: object) -> str:
    """What a failed sign-in's row names: the typed email if it is one (never other text: it may be a password)."""
    try:
        return check_email(raw)
    except UserError:
        return "(not an email)"


def sign_in(ledger: Ledger, email: object, password: object, now: float | None = None) -> Session:
    """A new session for a right email and password, else one UserError; every attempt is audited.

    The 5th wrong password in a row locks the account for 15 minutes (counted in the ledger, so every console
    process shares the count); a locked account refuses even the right password until the lock ends."""
    now = time.time() if now is None else now
    typed = password if isinstance(password, str) else ""
    shown = _visible_email(email)
    with ledger.read() as con:
        row = con.execute(load_sql("auth/user_by_email.sql"), {"email": shown}).fetchone()
    if row is None:
        passwords.verify_nobody(typed)
        audit.record(ledger, None, "user.sign_in_failed", shown, "unknown email", actor=Actor(shown))
        raise UserError(WRONG)
    user = User.from_row(row)
    who = Actor(user.email)
    if user.locked_until > now:
        audit.record(ledger, user.tenant_id, "user.sign_in_failed", user.email, "locked", actor=who)
        raise UserError(_locked(user.locked_until - now))
    if not passwords.verify(row["password_hash"], typed):
        with ledger.write() as con:
            locked_until = con.execute(load_sql("auth/user_sign_in_failed.sql"), {
                "user_id": user.user_id, "max_failures": MAX_FAILURES, "locked_until": now + LOCK_SECONDS,
            }).fetchone()[0]
            locks = locked_until > now
            audit.record(con, user.tenant_id, "user.sign_in_failed", user.email,
                         "wrong password; locked for 15 minutes" if locks else "wrong password", actor=who)
        raise UserError(_locked(LOCK_SECONDS) if locks else WRONG)
    if user.disabled:
        audit.record(ledger, user.tenant_id, "user.sign_in_failed", user.email, "disabled", actor=who)
        raise UserError("This account is disabled: ask your admin.")
    token = secrets.token_urlsafe(32)
    expires_at = now + session_seconds()
    with ledger.write() as con:
        con.execute(load_sql("auth/user_sign_in_ok.sql"), {"user_id": user.user_id})
        con.execute(load_sql("auth/session_insert.sql"), {
            "token_sha256": _digest(token), "user_id": user.user_id, "created_at": now, "expires_at": expires_at})
        audit.record(con, user.tenant_id, "user.sign_in", user.email, user.role, actor=who)
    return Session(token, user, expires_at)


def _locked(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return f"Too many failed sign-ins: this account is locked; try again in {minutes} minute{'s' * (minutes > 1)}."


def check(ledger: Ledger, session: object, now: float | None = None) -> Session | None:
    """The session as it stands in the ledger now (the user re-read), or None when it is not a live session:
    unknown, expired, signed out, or its user disabled."""
    if not isinstance(session, Session):
        return None
    now = time.time() if now is None else now
    with ledger.read() as con:
        row = con.execute(load_sql("auth/session_get.sql"), {"token_sha256": _digest(session.token), "now": now}
                          ).fetchone()
    if row is None:
        return None
    return Session(session.token, User.from_row(row), row["expires_at"])


def sign_out(ledger: Ledger, session: Session) -> None:
    """End the session for good (a copy of it is refused from now on)."""
    with ledger.write() as con:
        con.execute(load_sql("auth/session_revoke.sql"), {"token_sha256": _digest(session.token)})
        audit.record(con, session.user.tenant_id, "user.sign_out", session.user.email, actor=session.user.as_actor())
