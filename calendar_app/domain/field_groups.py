"""Appointment fields that only make sense together, so sync merges and sends them as one.

Start, end, time zone and all-day describe one "when" (Exchange stores start and end with their
zone; merging one side's start with the other's end could end a meeting before it starts). The
two attendee lists describe one set of people: an address may move from one list to the other.
"""

from __future__ import annotations

from collections.abc import Iterable

from calendar_app.domain.appointment import SYNCED_FIELDS

WHEN = ("start", "end", "timezone", "is_all_day")
PEOPLE = ("required_attendees", "optional_attendees")

FIELD_GROUPS: tuple[tuple[str, ...], ...] = (
    WHEN,
    PEOPLE,
    *((name,) for name in SYNCED_FIELDS if name not in WHEN + PEOPLE),
)


def whole_groups(fields: Iterable[str]) -> list[str]:
    """The given fields widened to whole groups, in the domain's field order."""
    named = set(fields)
    return [name for group in FIELD_GROUPS if named & set(group) for name in group]
