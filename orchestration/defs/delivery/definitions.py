"""The delivery domain's Definitions: the delivery poll sensor."""

import dagster as dg

from orchestration.defs.delivery.sensors import delivery_poll_sensor

defs = dg.Definitions(sensors=[delivery_poll_sensor])
