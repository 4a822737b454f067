"""The segment catalog: each ready segment's name, parameter (with its default and the console's choices)."""

from __future__ import annotations

from dataclasses import dataclass

from orchestration.errors import UserError

MAX_DAYS = 3650


@dataclass(frozen=True)
class SegmentParameter:
    """The one parameter a segment takes: `days` (a window) or `min` (an appointment count)."""

    name: str
    default: int
    choices: tuple[int, ...]
    custom: bool  # the console offers a free value besides the choices
    help: str


@dataclass(frozen=True)
class Segment:
    """A ready segment; its definition is `sql/segments/definitions/<name>.sql`: it either groups the filtered
    appointments (`groups_appointments`: its members get their phone columns by sql/segments/phoned_members.sql) or
    selects from narrowed_customers and hands on that set's phone columns."""

    name: str
    label: str
    description: str
    parameter: SegmentParameter | None = None
    appointment_based: bool = False  # members carry an anchor appointment for shortcodes
    groups_appointments: bool = False  # the definition reads filtered_appointments, not narrowed_customers

    @property
    def sql_file(self) -> str:
        return f"segments/definitions/{self.name}.sql"

    @property
    def defaults(self) -> dict[str, int]:
        return {self.parameter.name: self.parameter.default} if self.parameter else {}


def _days(default: int, choices: tuple[int, ...], custom: bool = False) -> SegmentParameter:
    return SegmentParameter("days", default, choices, custom, "window length in days")


SEGMENTS: dict[str, Segment] = {
    s.name: s
    for s in (
        Segment(
            "recent_bookers",
            "Recent bookers",
            "Booked an appointment (created) in the last N days.",
            _days(30, (7, 30, 90), custom=True),
            appointment_based=True,
            groups_appointments=True,
        ),
        Segment(
            "upcoming",
            "Upcoming appointments",
            "Has an appointment starting in the next N days that is not canceled or rejected.",
            _days(7, (7, 30)),
            appointment_based=True,
            groups_appointments=True,
        ),
        Segment("first_time", "First-time customers", "Exactly one appointment."),
        Segment(
            "repeat",
            "Repeat customers",
            "At least N appointments.",
            SegmentParameter("min", 3, (3,), True, "minimum number of appointments"),
        ),
        Segment(
            "lapsed",
            "Lapsed customers",
            "Has appointments, but none started in the last N days (nor later).",
            _days(90, (90, 180)),
        ),
        Segment(
            "cancelled_or_rejected",
            "Canceled or rejected",
            "Has a canceled or rejected appointment that started or was booked in the last N days.",
            _days(30, (30,)),
            appointment_based=True,
            groups_appointments=True,
        ),
        Segment("all_customers", "All customers", "Every customer (with a filter: those who match it)."),
        Segment(
            "all_appointments",
            "All with appointments",
            "Every customer with at least one appointment.",
            appointment_based=True,
        ),
    )
}


def segment(name: str) -> Segment:
    """The segment called `name`, or a UserError listing the known ones."""
    try:
        return SEGMENTS[name]
    except KeyError:
        raise UserError(f"Unknown segment {name!r}: known segments are {', '.join(SEGMENTS)}.") from None
