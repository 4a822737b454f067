"""Audiences: segment definitions over the warehouse, previews, recipient lists and materialized segments."""

from orchestration.audiences.audience import (
    EXCLUSIONS,
    RECIPIENT_COLUMNS,
    FilterOptions,
    Preview,
    filter_options,
    preview,
    recipients,
    segment_sizes,
)
from orchestration.audiences.materialize import materialize_segments, members_table, table_name
from orchestration.audiences.query import AudienceQuery, parse_as_of
from orchestration.audiences.segments import MAX_DAYS, SEGMENTS, Segment, SegmentParameter, segment
from orchestration.audiences.suppression import suppressed_numbers

__all__ = [
    "EXCLUSIONS",
    "MAX_DAYS",
    "RECIPIENT_COLUMNS",
    "SEGMENTS",
    "AudienceQuery",
    "FilterOptions",
    "Preview",
    "Segment",
    "SegmentParameter",
    "filter_options",
    "materialize_segments",
    "members_table",
    "parse_as_of",
    "preview",
    "recipients",
    "segment",
    "segment_sizes",
    "suppressed_numbers",
    "table_name",
]
