"""The sync domain's Definitions: assets, checks, the sync job and its schedule."""

import dagster as dg

from orchestration.defs.sync import checks
from orchestration.defs.sync.assets import booknetic_raw, warehouse_cleaned
from orchestration.defs.sync.schedules import audience_refresh_schedule, sync_job

SYNC_ASSETS = [booknetic_raw, warehouse_cleaned]
SYNC_CHECKS = [checks.invalid_phone_share, checks.duplicate_phone_numbers, checks.orphan_appointment_share,
               checks.source_values_readable, checks.appointment_times_complete]

defs = dg.Definitions(
    assets=SYNC_ASSETS,
    asset_checks=SYNC_CHECKS,
    jobs=[sync_job],
    schedules=[audience_refresh_schedule],
)
