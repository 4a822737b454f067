"""The SQLite ledger: tenants, credentials, templates, campaigns, recipients and the suppression list."""

from orchestration.ledger.store import Ledger

__all__ = ["Ledger"]
