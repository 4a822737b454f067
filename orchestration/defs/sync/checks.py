"""Asset checks that report data problems in the cleaned layer (WARN: the data is still usable)."""

import dagster as dg

from orchestration.defs.resources import HomeResource
from orchestration.warehouse.phones import INVALID_PHONE
from orchestration.warehouse.quality import (
    appointment_times,
    duplicate_phones,
    orphan_appointments,
    phone_status_counts,
    source_rejects,
)

# A check fails (passed=False, severity WARN) above these shares.
MAX_INVALID_PHONE_SHARE = 0.05
MAX_SHARED_PHONE_CUSTOMER_SHARE = 0.05
MAX_ORPHAN_APPOINTMENT_SHARE = 0.0


@dg.asset_check(asset="customers", description=f"At most {MAX_INVALID_PHONE_SHARE:.0%} of customers have an "
                "unusable (invalid) phone number.")
def invalid_phone_share(home: HomeResource) -> dg.AssetCheckResult:
    with home.warehouse().reader() as con:
        counts = phone_status_counts(con)
    share = counts.invalid_share
    return dg.AssetCheckResult(
        passed=share <= MAX_INVALID_PHONE_SHARE,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "invalid_phone_share": round(share, 4),
            "invalid_phones": counts.count(INVALID_PHONE),
            "customers": counts.customers,
            "threshold": MAX_INVALID_PHONE_SHARE,
            "invalid_share_per_tenant": {
                str(t): round(counts.tenant_share(t, INVALID_PHONE), 4) for t in sorted(counts.by_tenant)
            },
        },
    )


@dg.asset_check(asset="customers", description="Few customers share a phone number with another customer of "
                "their tenant (only the lowest customer id of each number gets a message).")
def duplicate_phone_numbers(home: HomeResource) -> dg.AssetCheckResult:
    with home.warehouse().reader() as con:
        numbers, holders = duplicate_phones(con)
    return dg.AssetCheckResult(
        passed=holders.share <= MAX_SHARED_PHONE_CUSTOMER_SHARE,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "shared_numbers": numbers,
            "customers_on_shared_numbers": holders.affected,
            "share": round(holders.share, 4),
            "threshold": MAX_SHARED_PHONE_CUSTOMER_SHARE,
            "sample_tenant_numbers": holders.sample,
        },
    )


@dg.asset_check(asset="appointments", description="Every appointment's customer exists in its tenant.")
def orphan_appointment_share(home: HomeResource) -> dg.AssetCheckResult:
    with home.warehouse().reader() as con:
        orphans = orphan_appointments(con)
    return dg.AssetCheckResult(
        passed=orphans.share <= MAX_ORPHAN_APPOINTMENT_SHARE,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "orphan_appointments": orphans.affected,
            "appointments": orphans.total,
            "share": round(orphans.share, 4),
            "threshold": MAX_ORPHAN_APPOINTMENT_SHARE,
            "sample_tenant_appointments": orphans.sample,
        },
    )


@dg.asset_check(asset="booknetic_raw", description="Every source value fits its column: a value that does not "
                "(a price that is not a number, a CSV row with too many fields) is read as NULL, counted here, and "
                "the rest of the sync goes on.")
def source_values_readable(home: HomeResource) -> dg.AssetCheckResult:
    with home.warehouse().reader() as con:
        rejects = source_rejects(con)
    return dg.AssetCheckResult(
        passed=rejects.total == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "rejected_values": rejects.total,
            "rejected_per_column": rejects.by_column,
            "sample_rows": rejects.samples,
        },
    )


@dg.asset_check(asset="appointments", description="Every source appointment has an id, a customer and a start "
                "(else it is left out); those without a booking time (created_at) are kept and counted.")
def appointment_times_complete(home: HomeResource) -> dg.AssetCheckResult:
    with home.warehouse().reader() as con:
        times = appointment_times(con)
    return dg.AssetCheckResult(
        passed=times.left_out.affected == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "appointments": times.appointments,
            "without_created_at": times.without_created_at,
            "left_out": times.left_out.affected,
            "sample_left_out_tenant_appointments": times.left_out.sample,
        },
    )
