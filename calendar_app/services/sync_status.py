"""What the calendar window needs to know about sync, without knowing how sync works.

The sync engine (or its Qt controller) implements `SyncStatusSource`; the window registers one
`SyncStatusListener` and is told about connection changes, items whose state changed and
activity worth showing. Listeners may be called from any thread: the window marshals the calls
onto the GUI thread itself. With no source at all the calendar is purely local.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class ConnectionState(enum.StrEnum):
    ONLINE = "online"
    SYNCING = "syncing"
    OFFLINE = "offline"  # integration on, Exchange unreachable: edits wait in the outbox
    STOPPED = "stopped"  # integration on, needs the admin (bad password, changed certificate)


@dataclass(frozen=True)
class SyncStatus:
    state: ConnectionState
    text: str  # one line for the status bar, e.g. "Connected to mail.example.com"
    pending_count: int
    last_sync: datetime | None  # aware; None = never synced


class ActivityLevel(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class ActivityEvent:
    when: datetime  # aware
    level: ActivityLevel
    message: str  # what happened, one line
    explanation: str = ""  # why, and what the rep can do about it
    uuid: str | None = None  # the appointment concerned, if any


class SyncStatusListener(Protocol):
    def status_changed(self, status: SyncStatus) -> None: ...

    def appointment_changed(self, uuid: str) -> None:
        """The stored appointment (or its sync state) changed: re-read that one item. Call it for
        every appointment the sync side writes: the window's read-ahead relies on it."""

    def everything_changed(self) -> None:
        """Many appointments changed at once (a full resync): re-read what is shown."""

    def activity(self, event: ActivityEvent) -> None: ...


class SyncStatusSource(Protocol):
    def add_listener(self, listener: SyncStatusListener) -> None: ...

    def current_status(self) -> SyncStatus: ...

    def request_sync(self) -> None:
        """Ask for a sync as soon as possible; returns at once (never waits on the network)."""
