"""Each tenant's Twilio credentials in the ledger, the auth token Fernet-encrypted and never shown or serialised."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlparse

import phonenumbers

from orchestration.auth import audit
from orchestration.errors import UserError
from orchestration.ledger.store import Ledger
from orchestration.sqlfiles import load_sql
from orchestration.tenants.secret_key import TokenCipher
from orchestration.tenants.settings import check_tenant_id, ensure_tenant_row

_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
_MESSAGING_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")


@dataclass(frozen=True)
class TwilioCredentials:
    """What one tenant sends with. `repr`/`str` never show the token, and pickling is refused."""

    account_sid: str
    auth_token: str = field(repr=False)
    from_number: str | None = None
    messaging_service_sid: str | None = None
    api_base_url: str | None = None  # None: $BKNTC_SMS_TWILIO_API_URL, else the real Twilio

    def __post_init__(self) -> None:
        if not _ACCOUNT_SID.fullmatch(self.account_sid or ""):
            raise UserError(f"Account SID must be 'AC' followed by 32 hex digits, not {self.account_sid!r}")
        if not self.auth_token or any(c.isspace() for c in self.auth_token):
            raise UserError("Auth token must be a non-empty value without spaces")
        if not self.from_number and not self.messaging_service_sid:
            raise UserError("Give a sender: a From number, a Messaging Service SID, or both")
        if self.from_number and not _is_e164(self.from_number):
            raise UserError(f"From number must be a valid E.164 number such as +15551234567, not {self.from_number!r}")
        if self.messaging_service_sid and not _MESSAGING_SERVICE_SID.fullmatch(self.messaging_service_sid):
            raise UserError(
                f"Messaging Service SID must be 'MG' followed by 32 hex digits, not {self.messaging_service_sid!r}"
            )
        if self.api_base_url is not None:
            check_api_base_url(self.api_base_url)

    def __repr__(self) -> str:
        return (
            f"TwilioCredentials(account_sid={self.account_sid!r}, auth_token=<hidden>, "
            f"from_number={self.from_number!r}, messaging_service_sid={self.messaging_service_sid!r}, "
            f"api_base_url={self.api_base_url!r})"
        )

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("TwilioCredentials are never serialised: load them from the ledger where needed")


@dataclass(frozen=True)
class TwilioSummary:
    """What may be shown about a tenant's credentials: everything except the token, which is only 'set'."""

    account_sid: str
    from_number: str | None
    messaging_service_sid: str | None
    api_base_url: str | None
    updated_at: str


def _is_e164(number: str) -> bool:
    if not re.fullmatch(r"\+[1-9]\d{6,14}", number):
        return False
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return False


def check_api_base_url(url: str) -> str:
    """The URL when it is an http(s) URL with a host (and no credentials in it), else a UserError."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.username or parsed.password:
        raise UserError(f"API base URL must look like https://api.twilio.com or http://127.0.0.1:8080, not {url!r}")
    return url


def save_twilio(ledger: Ledger, tenant_id: int, credentials: TwilioCredentials, cipher: TokenCipher) -> None:
    """Store (or replace) the tenant's credentials; the token is encrypted before it reaches the ledger."""
    check_tenant_id(tenant_id)
    encrypted = cipher.encrypt(credentials.auth_token)
    with ledger.write() as con:
        ensure_tenant_row(con, tenant_id)
        con.execute(
            load_sql("ledger/queries/credentials_upsert.sql"),
            {
                "tenant_id": tenant_id,
                "account_sid": credentials.account_sid,
                "auth_token_encrypted": encrypted,
                "from_number": credentials.from_number,
                "messaging_service_sid": credentials.messaging_service_sid,
                "api_base_url": credentials.api_base_url,
            },
        )
        audit.record(con, tenant_id, "credentials.change", credentials.account_sid, "auth token replaced (not shown)")


def twilio_summary(ledger: Ledger, tenant_id: int) -> TwilioSummary | None:
    """The shareable part of the tenant's credentials (nothing is decrypted), or None when not set."""
    check_tenant_id(tenant_id)
    with ledger.read() as con:
        row = con.execute(load_sql("ledger/queries/credentials_summary.sql"), {"tenant_id": tenant_id}).fetchone()
    return TwilioSummary(**dict(row)) if row else None


def load_twilio(ledger: Ledger, tenant_id: int, cipher: TokenCipher) -> TwilioCredentials:
    """The tenant's credentials with the token decrypted; a UserError when none are set or the key is wrong."""
    check_tenant_id(tenant_id)
    with ledger.read() as con:
        row = con.execute(load_sql("ledger/queries/credentials_get.sql"), {"tenant_id": tenant_id}).fetchone()
    if row is None:
        raise UserError(
            f"Tenant {tenant_id} has no Twilio credentials: run `bkntc-sms tenant set-twilio --tenant {tenant_id}`"
        )
    return TwilioCredentials(
        account_sid=row["account_sid"],
        auth_token=cipher.decrypt(row["auth_token_encrypted"]),
        from_number=row["from_number"],
        messaging_service_sid=row["messaging_service_sid"],
        api_base_url=row["api_base_url"],
    )
