"""The recurring domain's Definitions: the sensor that makes and starts each occurrence."""

import dagster as dg

from orchestration.defs.recurring.sensors import recurring_campaigns_sensor

defs = dg.Definitions(sensors=[recurring_campaigns_sensor])
