"""The sending domain's Definitions: the campaign asset, the send job and the queue sensor."""

import dagster as dg

from orchestration.defs.sending.assets import campaign
from orchestration.defs.sending.jobs import send_campaign_job
from orchestration.defs.sending.sensors import send_queue_sensor

defs = dg.Definitions(assets=[campaign], jobs=[send_campaign_job], sensors=[send_queue_sensor])
