"""Each tenant's public status-callback URL, and the URL its messages are created with (`?tenant=T` added, so the
receiver knows whose auth token must have signed a callback)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from orchestration.auth import audit
from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.sqlfiles import load_sql
from orchestration.tenants.credentials import check_api_base_url

TENANT_PARAM = "tenant"


def check_callback_url(url: str) -> str:
    """The URL when it is an http(s) URL with a host and no credentials, else a UserError."""
    try:
        return check_api_base_url(url)
    except UserError:
        example = "https://sms.example.com/twilio/status"
        raise UserError(f"Status callback URL must look like {example}, not {url!r}") from None


def set_callback_url(ledger: Ledger, tenant_id: int, url: str | None) -> None:
    """Stores (or clears, with None or '') the tenant's public status-callback URL; its credentials must exist."""
    url = check_callback_url(url.strip()) if url and url.strip() else None
    with ledger.write() as con:
        changed = con.execute(load_sql("delivery/callback_url_set.sql"), {"tenant_id": tenant_id, "url": url}).rowcount
        if changed:
            audit.record(con, tenant_id, "settings.change", "status callback URL", url or "(none)")
    if not changed:
        raise UserError(f"Tenant {tenant_id} has no Twilio credentials: set them before a status callback URL")


def stored_callback_url(ledger: Ledger, tenant_id: int) -> str | None:
    """The URL as the tenant set it, or None."""
    with ledger.read() as con:
        row = con.execute(load_sql("delivery/callback_url_get.sql"), {"tenant_id": tenant_id}).fetchone()
    return row["status_callback_url"] if row else None


def with_tenant(url: str, tenant_id: int) -> str:
    """`url` with `tenant=T` in its query (replacing any tenant parameter already there)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != TENANT_PARAM]
    query.append((TENANT_PARAM, str(tenant_id)))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def callback_url(ledger: Ledger, tenant_id: int) -> str | None:
    """The StatusCallback the tenant's messages are created with, or None when it has no public URL."""
    url = stored_callback_url(ledger, tenant_id)
    return with_tenant(url, tenant_id) if url else None
