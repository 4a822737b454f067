"""Messages: templates with Booknetic shortcodes, personalization, SMS segments and CSV-safe cells."""

from orchestration.messages.segments import SegmentCount, count_segments, count_segments_many, total_segments
from orchestration.messages.shortcodes import SHORTCODES, render, render_many, validate_template

__all__ = [
    "SHORTCODES",
    "SegmentCount",
    "count_segments",
    "count_segments_many",
    "render",
    "render_many",
    "total_segments",
    "validate_template",
]
