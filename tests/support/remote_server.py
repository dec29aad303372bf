"""The in-memory remote calendar served from its own process on 127.0.0.1, so it outlives a sync
process that is killed: the stand-in for a server in the kill test. Calls travel over a real
loopback socket (multiprocessing's manager protocol); RemoteErrors cross it as themselves."""

from __future__ import annotations

from multiprocessing.managers import BaseManager

from calendar_app.sync.in_memory_remote import InMemoryRemoteCalendar

_calendar: InMemoryRemoteCalendar | None = None


def shared_calendar() -> InMemoryRemoteCalendar:
    """Runs in the server process: one calendar for every connection."""
    global _calendar
    if _calendar is None:
        _calendar = InMemoryRemoteCalendar()
    return _calendar


class RemoteCalendarServer(BaseManager):
    pass


RemoteCalendarServer.register("calendar", callable=shared_calendar)
