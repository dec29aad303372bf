"""Helpers for the sync tests: a local calendar (real SQLite) wired to a remote calendar, and the
checks that two calendars hold the same appointments."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from calendar_app.domain import Appointment, FreeBusy, new_appointment
from calendar_app.store import AppointmentRepository, Database, Outbox, SyncRecords
from calendar_app.sync.engine import SyncEngine
from calendar_app.sync.in_memory_remote import InMemoryRemoteCalendar
from calendar_app.sync.merge import ConflictPolicy
from calendar_app.sync.report import SyncReport


@dataclass
class LocalCalendar:
    database: Database
    repo: AppointmentRepository
    outbox: Outbox
    records: SyncRecords
    engine: SyncEngine

    @classmethod
    def open(cls, path: Path, remote: Any, *, policy: ConflictPolicy = ConflictPolicy.ASK,
             **engine_options: Any) -> LocalCalendar:
        database = Database.open(path)
        options: dict[str, Any] = {"retry_base_seconds": 0.01, **engine_options}
        engine = SyncEngine(database, remote, conflict_policy=policy, **options)
        return cls(database, AppointmentRepository(database), Outbox(database), SyncRecords(database), engine)

    def sync(self, **options: Any) -> SyncReport:
        return self.engine.run_once(**options)

    def sync_until_converged(self, rounds: int = 10) -> SyncReport:
        report = self.sync()
        for _ in range(rounds):
            if report.converged:
                return report
            report = self.sync()
        return report

    def appointments(self) -> dict[str, Appointment]:
        return {s.appointment.uuid: s.appointment for s in self.repo.all()}

    def item_id(self, uuid: str) -> str:
        status = self.records.status(uuid)
        assert status is not None and status.item_id is not None, f"{uuid} has no Exchange item id"
        return status.item_id


def remote_appointments(remote: InMemoryRemoteCalendar) -> dict[str, Appointment]:
    items = remote.items()
    uuids = [i.appointment.uuid for i in items]
    duplicates = [u for u, n in Counter(uuids).items() if n > 1]
    assert not duplicates, f"duplicate items on the server: {duplicates}"
    return {i.appointment.uuid: i.appointment for i in items}


def assert_same_calendars(local: LocalCalendar, remote: InMemoryRemoteCalendar) -> None:
    mine, theirs = local.appointments(), remote_appointments(remote)
    assert set(mine) == set(theirs), f"only local: {set(mine) - set(theirs)}; only remote: {set(theirs) - set(mine)}"
    for uuid, appointment in mine.items():
        assert appointment == theirs[uuid], f"{uuid} differs:\n local  {appointment}\n remote {theirs[uuid]}"


def meeting(subject: str = "Quarterly review with Contoso", *, day: int = 4, hour: int = 9, hours: int = 1,
            zone: str = "Europe/Berlin", **other: Any) -> Appointment:
    return new_appointment(subject=subject, start=datetime(2026, 5, day, hour),
                           end=datetime(2026, 5, day, hour + hours), timezone=zone, **other)


# One of each kind of appointment the domain allows: what every round trip must carry unchanged.
KINDS: dict[str, Appointment] = {
    "plain": meeting("Call with Fabrikam"),
    "all-day": new_appointment(subject="Trade fair", start=datetime(2026, 6, 1), end=datetime(2026, 6, 4),
                               timezone="Europe/Berlin", is_all_day=True, free_busy=FreeBusy.OUT_OF_OFFICE),
    "attendees": meeting("Pricing", required_attendees=("buyer@fabrikam.com", "cfo@fabrikam.com"),
                         optional_attendees=("assistant@fabrikam.com",)),
    # Europe/Berlin springs forward at 02:00 on 29 March 2026: the wall-clock times must survive.
    "dst-crossing": new_appointment(subject="Overnight install", start=datetime(2026, 3, 28, 22, 0),
                                    end=datetime(2026, 3, 29, 6, 30), timezone="Europe/Berlin"),
    "non-local-zone": new_appointment(subject="Call with Tokyo office", start=datetime(2026, 5, 4, 18),
                                      end=datetime(2026, 5, 4, 19, 15), timezone="Asia/Tokyo"),
    "everything": meeting("Full", location="Room 4.01", body="Agenda:\n1. Prices\n2. Dates ✓",
                          reminder_minutes=None, free_busy=FreeBusy.TENTATIVE, is_private=True,
                          categories=("Customer", "Q2"), required_attendees=("a@contoso.com",)),
}
