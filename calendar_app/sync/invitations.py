"""Who hears about a change: invitations on a change of time or place, to the attendees concerned;
nothing for a change nobody else sees (reminder, categories, show-as, privacy, a time zone that
keeps the same instants)."""

from __future__ import annotations

from collections.abc import Sequence

from calendar_app.domain.appointment import Appointment
from calendar_app.domain.remote_items import SendTo


def recipients_for_update(before: Appointment, after: Appointment, fields: Sequence[str]) -> SendTo:
    if not (before.has_attendees or after.has_attendees):
        return SendTo.NOBODY
    time_moved = (before.start != after.start or before.end != after.end  # aware: compares instants
                  or before.is_all_day != after.is_all_day)
    place_moved = "location" in fields and before.location != after.location
    if time_moved or place_moved:
        return SendTo.ALL_ATTENDEES
    before_people = {a.lower() for a in before.attendees}
    after_people = {a.lower() for a in after.attendees}
    if before_people != after_people:
        return SendTo.CHANGED_ATTENDEES
    return SendTo.NOBODY
