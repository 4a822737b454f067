"""The sync job and the hourly schedule that keeps the warehouse (and the audiences built on it) fresh."""

import dagster as dg

from orchestration.defs.resources import HomeResource
from orchestration.defs.sync.assets import booknetic_raw

# The raw copy and everything downstream of it: the cleaned layer, facts and (once merged) the audiences.
sync_job = dg.define_asset_job(
    "sync_job",
    selection=dg.AssetSelection.assets(booknetic_raw).downstream(),
    description="Copy the Booknetic source into the warehouse and rebuild everything that depends on it.",
)


@dg.schedule(
    job=sync_job,
    cron_schedule="0 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Hourly refresh from the source `bkntc-sms sync` remembered; skipped until there is one.",
)
def audience_refresh_schedule(context: dg.ScheduleEvaluationContext, home: HomeResource):
    if not home.home().source_file.is_file():
        return dg.SkipReason("No source yet: run `bkntc-sms sync --source DIR|URL` once.")
    return dg.RunRequest(run_key=None)
