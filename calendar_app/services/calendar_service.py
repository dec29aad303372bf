"""The rep's calendar use cases: read a range, save, move, cancel, resolve a conflict.

Thin on purpose: the rules live in the domain (validation) and the store (one transaction per
edit with its outbox operation). The GUI calls this module, never SQL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from calendar_app.domain.appointment import SYNCED_FIELDS, Appointment
from calendar_app.store.appointment_repository import (
    AppointmentNotFoundError,
    AppointmentRepository,
    StoredAppointment,
)
from calendar_app.store.database import Database
from calendar_app.store.outbox import Outbox
from calendar_app.store.sync_records import Conflict, SyncRecords


@dataclass(frozen=True)
class ConflictVersions:
    """Both sides of a conflicted appointment, and the fields that differ."""

    mine: Appointment
    exchange: Appointment
    conflicting_fields: tuple[str, ...]  # the fields the sync engine reported in conflict
    differing_fields: tuple[str, ...]  # every field where mine and Exchange's differ


class CalendarService:
    def __init__(self, database: Database) -> None:
        self.database = database
        self.appointments = AppointmentRepository(database)
        self.sync_records = SyncRecords(database)
        self.outbox = Outbox(database)

    # ------------------------------------------------------------------ reads
    def list_range(self, start: datetime, end: datetime) -> list[StoredAppointment]:
        return self.appointments.between(start, end)

    def get(self, uuid: str) -> StoredAppointment | None:
        try:
            stored = self.appointments.get(uuid)
        except AppointmentNotFoundError:
            return None
        return None if stored.is_cancelled else stored

    def pending_count(self) -> int:
        return self.outbox.pending_count()

    def close_connection_of_this_thread(self) -> None:
        """For a reader thread that is ending: the store opens one connection per thread."""
        self.database.close()

    # ------------------------------------------------------------------ edits
    def save(self, appointment: Appointment) -> list[str]:
        """Create or update. Returns the changed fields (all of them for a new one)."""
        if self.get(appointment.uuid) is None:
            self.appointments.add(appointment)
            return list(SYNCED_FIELDS)
        return self.appointments.update(appointment)

    def move(self, uuid: str, start: datetime, end: datetime) -> list[str]:
        """New start/end for an existing appointment, given in any zone; the appointment keeps
        its own zone (a rep in Berlin dragging a New York meeting keeps it a New York meeting)."""
        stored = self.appointments.get(uuid)
        current = stored.appointment
        zone = current.start.tzinfo
        moved = current.with_changes(start=start.astimezone(zone), end=end.astimezone(zone))
        return self.appointments.update(moved)

    def cancel(self, uuid: str) -> None:
        self.appointments.cancel(uuid)

    @staticmethod
    def cancellation_recipients(appointment: Appointment) -> tuple[str, ...]:
        """Who receives a meeting cancellation when this appointment is cancelled."""
        return appointment.attendees

    # ------------------------------------------------------------------ conflicts
    def conflicts(self, uuid: str) -> list[Conflict]:
        return self.sync_records.conflicts(uuid)

    def conflict_versions(self, uuid: str) -> ConflictVersions | None:
        """Mine (the stored local version) and Exchange's (the snapshot the sync engine stored
        when it recorded the conflict; failing that, mine with Exchange's conflicting values)."""
        stored = self.get(uuid)
        if stored is None:
            return None
        conflicts = self.sync_records.conflicts(uuid)
        mine = stored.appointment
        status = self.sync_records.status(uuid)
        exchange: Appointment | None = None
        if status is not None and status.snapshot:
            exchange = _appointment_or_none(status.snapshot)
        if exchange is None:
            data: dict[str, Any] = mine.to_dict()
            for conflict in conflicts:
                data[conflict.field] = conflict.remote_value
            exchange = _appointment_or_none(data)
        if exchange is None or exchange.uuid != mine.uuid:
            exchange = mine
        differing = tuple(f for f in SYNCED_FIELDS if getattr(mine, f) != getattr(exchange, f))
        return ConflictVersions(mine, exchange, tuple(c.field for c in conflicts), differing)

    def resolve_conflict(self, resolved: Appointment) -> list[str]:
        """The rep's answer; what differs from Exchange's version goes out on the next push."""
        return self.appointments.resolve_conflict(resolved)


def _appointment_or_none(data: dict[str, Any]) -> Appointment | None:
    try:
        return Appointment.from_dict(json.loads(json.dumps(data)))
    except (ValueError, KeyError, TypeError):
        return None
