"""Tenants: who they are, their sending settings and their encrypted Twilio credentials."""

from orchestration.tenants.credentials import (
    TwilioCredentials,
    TwilioSummary,
    load_twilio,
    save_twilio,
    twilio_summary,
)
from orchestration.tenants.listing import Tenant, list_tenants
from orchestration.tenants.secret_key import TokenCipher
from orchestration.tenants.settings import TenantSettings, ensure_tenant, get_settings, update_settings

__all__ = [
    "Tenant",
    "TenantSettings",
    "TokenCipher",
    "TwilioCredentials",
    "TwilioSummary",
    "ensure_tenant",
    "get_settings",
    "list_tenants",
    "load_twilio",
    "save_twilio",
    "twilio_summary",
    "update_settings",
]
