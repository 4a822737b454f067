"""The delivery sensors: each tick, poll Twilio for every tenant with delivery checks due (by its sender's message
list, stragglers by SID; then put the re-sends its rules allow back to be sent), and list the inbound messages
(STOP/START) to every tenant's sender.

The polls run inside the tick (they only read Twilio and write the ledger), bounded per tenant so a tick stays
short; what is left is due at the next tick. Each tenant is isolated: one tenant's error (no credentials, Twilio
unreachable, a bug) is logged and every other tenant is still polled."""

import dagster as dg

from orchestration.defs.resources import HomeResource
from orchestration.delivery.inbound_poll import sync_inbound, tenants_with_senders
from orchestration.delivery.poll import sync_tenant, tenants_due
from orchestration.delivery.rules import tenants_resending

MAX_CHECKS_PER_TENANT = 2000  # messages per tenant and tick


@dg.sensor(minimum_interval_seconds=10, default_status=dg.DefaultSensorStatus.RUNNING)
def delivery_poll_sensor(context: dg.SensorEvaluationContext, home: HomeResource):
    """Reads the status of the messages whose delivery check is due, tenant by tenant."""
    ledger = home.ledger()
    done = []
    for tenant_id in sorted(set(tenants_due(ledger)) | set(tenants_resending(ledger))):
        try:
            summary = sync_tenant(home.home(), tenant_id, max_checks=MAX_CHECKS_PER_TENANT)
        except Exception as exc:  # one tenant's failure must not stop the others' polling
            context.log.error(f"Delivery poll of tenant {tenant_id} failed: {exc!r}")
            done.append(f"tenant {tenant_id}: failed")
            continue
        context.log.info(f"Delivery poll of tenant {tenant_id}: {summary.as_dict()}")
        done.append(f"tenant {tenant_id}: {summary.checked} checked, {summary.changed} changed, "
                    f"{summary.unknown} unknown, {summary.fetch_failures} reads failed, {summary.requests} requests, "
                    f"{summary.resends} resent")
    return dg.SkipReason("; ".join(done) if done else "no delivery checks due")


@dg.sensor(minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def inbound_poll_sensor(context: dg.SensorEvaluationContext, home: HomeResource):
    """Lists each tenant's new inbound messages and applies their STOP/START keywords (once per message)."""
    done = []
    for tenant_id in tenants_with_senders(home.ledger()):
        try:
            summary = sync_inbound(home.home(), tenant_id)
        except Exception as exc:  # one tenant's failure must not stop the others' polling
            context.log.error(f"Inbound poll of tenant {tenant_id} failed: {exc!r}")
            done.append(f"tenant {tenant_id}: failed")
            continue
        outcomes = ", ".join(f"{k} {n}" for k, n in sorted(summary.outcomes.items())) or "nothing new"
        done.append(f"tenant {tenant_id}: {summary.recorded} new ({outcomes})")
    return dg.SkipReason("; ".join(done) if done else "no tenant with a sender number")
