"""The delivery domain's Definitions: the delivery poll sensor and the inbound poll sensor."""

import dagster as dg

from orchestration.defs.delivery.sensors import delivery_poll_sensor, inbound_poll_sensor

defs = dg.Definitions(sensors=[delivery_poll_sensor, inbound_poll_sensor])
