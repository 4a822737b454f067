"""Test helper: a real user in the ledger, signed in through the real sign-in function (no bypass exists)."""

from __future__ import annotations

from orchestration.auth import sessions, users
from orchestration.auth.sessions import Session
from orchestration.config import Home
from orchestration.errors import UserError
from orchestration.ledger import Ledger

PASSWORD = "tests-only-password"


def ensure_user(home: Home, email: str, role: str = "operator", tenant: int | None = None) -> str:
    """The user `email` in `home`'s ledger (created with PASSWORD when missing)."""
    ledger = Ledger(home.ledger)
    try:
        users.get_user(ledger, email)
    except UserError:
        users.add_user(ledger, email, role, tenant, PASSWORD)
    return email


def sign_in_as(home: Home, email: str = "operator@tests.example", role: str = "operator",
               tenant: int | None = None) -> Session:
    """A live session of that user, as the console's sign-in form would make it."""
    return sessions.sign_in(Ledger(home.ledger), ensure_user(home, email, role, tenant), PASSWORD)


def sign_in_in_browser(page, email: str, password: str = PASSWORD) -> None:
    """Fill the console's sign-in form in a Playwright page and submit it."""
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=30_000)
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
