"""The delivery poll sensor: each tick, polls Twilio by SID for every tenant with delivery checks due.

The poll runs inside the tick (it only reads Twilio and writes the ledger), bounded per tenant so a tick stays
short; what is left is due at the next tick. Each tenant is isolated: one tenant's error (no credentials, Twilio
unreachable, a bug) is logged and every other tenant is still polled."""

import dagster as dg

from orchestration.defs.resources import HomeResource
from orchestration.delivery.poll import sync_tenant, tenants_due

MAX_CHECKS_PER_TENANT = 2000  # messages per tenant and tick


@dg.sensor(minimum_interval_seconds=10, default_status=dg.DefaultSensorStatus.RUNNING)
def delivery_poll_sensor(context: dg.SensorEvaluationContext, home: HomeResource):
    """Fetches the status of the messages whose delivery check is due, tenant by tenant."""
    ledger = home.ledger()
    done = []
    for tenant_id in tenants_due(ledger):
        try:
            summary = sync_tenant(home.home(), tenant_id, max_checks=MAX_CHECKS_PER_TENANT)
        except Exception as exc:  # one tenant's failure must not stop the others' polling
            context.log.error(f"Delivery poll of tenant {tenant_id} failed: {exc!r}")
            done.append(f"tenant {tenant_id}: failed")
            continue
        context.log.info(f"Delivery poll of tenant {tenant_id}: {summary.as_dict()}")
        done.append(f"tenant {tenant_id}: {summary.checked} checked, {summary.changed} changed, "
                    f"{summary.unknown} unknown, {summary.fetch_failures} fetches failed")
    return dg.SkipReason("; ".join(done) if done else "no delivery checks due")
