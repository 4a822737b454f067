"""Gathers each domain's definitions (sync, audiences, sending, delivery, recurring) into one Definitions."""

import dagster as dg

from orchestration.defs.audiences.definitions import defs as audiences_defs
from orchestration.defs.delivery.definitions import defs as delivery_defs
from orchestration.defs.recurring.definitions import defs as recurring_defs
from orchestration.defs.resources import resources_for
from orchestration.defs.sending.definitions import defs as sending_defs
from orchestration.defs.sync.definitions import defs as sync_defs

defs = dg.Definitions.merge(
    dg.Definitions(resources=resources_for()),
    sync_defs,
    audiences_defs,
    sending_defs,
    delivery_defs,
    recurring_defs,
)
