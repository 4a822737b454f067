"""The audiences domain's Definitions: the segment assets (group `audiences`)."""

import dagster as dg

from orchestration.defs.audiences.assets import segments

defs = dg.Definitions(assets=[segments])
