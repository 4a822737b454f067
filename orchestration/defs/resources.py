"""Resources: the only doors from Dagster to the outside world (the home folder's warehouse and ledger)."""

from __future__ import annotations

import os

import dagster as dg

from orchestration.config import Home
from orchestration.ledger import Ledger
from orchestration.warehouse import Warehouse


class HomeResource(dg.ConfigurableResource):
    """The product's home folder; empty means $BKNTC_SMS_HOME (or ./.bkntc-sms)."""

    path: str = ""

    def home(self) -> Home:
        return Home.resolve(self.path or None).ensure()

    def warehouse(self) -> Warehouse:
        return Warehouse(self.home().warehouse)

    def ledger(self) -> Ledger:
        return Ledger(self.home().ledger)


def resources_for(home: str | os.PathLike[str] | None = None) -> dict[str, object]:
    """The resource dictionary for one deployment (one home folder)."""
    return {"home": HomeResource(path=str(home) if home else "")}
