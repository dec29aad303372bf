"""Fixtures for the calendar window tests: a real SQLite store, a fixed clock and locale."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QLocale
from pytestqt.qtbot import QtBot

from calendar_app.domain import Appointment, new_appointment
from calendar_app.services.calendar_service import CalendarService
from calendar_app.store import Database
from calendar_app.store.settings_file import Settings

BERLIN = ZoneInfo("Europe/Berlin")
# Wednesday 11 March 2026, 10:40 in Berlin: the week shown is Mon 9 – Fri 13 (en_GB weeks start on Monday)
NOW = datetime(2026, 3, 11, 10, 40, tzinfo=BERLIN)


@pytest.fixture(autouse=True)
def british_locale() -> Iterator[None]:
    previous = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))
    yield
    QLocale.setDefault(previous)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[CalendarService]:
    calendar = CalendarService(Database.open(tmp_path / "calendar.sqlite3"))
    yield calendar
    calendar.database.close()


def make_window(qtbot: QtBot, service: CalendarService, settings: Settings | None = None, **options: Any):
    from calendar_app.gui.main_window import MainWindow

    window = MainWindow(service, settings or Settings(), zone=BERLIN, now=lambda: NOW,
                        undo_seconds=options.pop("undo_seconds", 0.3), **options)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    return window


def add(service: CalendarService, subject: str, start: datetime, minutes: int = 60, **other: Any) -> Appointment:
    appointment = new_appointment(subject=subject, start=start, end=start + timedelta(minutes=minutes),
                                  timezone="Europe/Berlin", **other)
    service.save(appointment)
    return appointment


def mark_pushed(service: CalendarService, appointment: Appointment) -> None:
    """What the sync engine does after Exchange accepted the create: drop the outbox operation
    and record the item id, change key and the merge base."""
    for operation in service.outbox.ready():
        if operation.uuid == appointment.uuid:
            service.outbox.complete(operation.id)
    service.sync_records.mark_synced(appointment.uuid, item_id=f"AAMk{appointment.uuid}", change_key="CK1",
                                     snapshot=appointment.to_dict())


def outbox_rows(service: CalendarService, uuid: str) -> list[tuple[str, list[str]]]:
    with service.database.reading() as c:
        rows = c.execute("SELECT operation, changed_fields FROM outbox WHERE uuid = ? ORDER BY id",
                         (uuid,)).fetchall()
    return [(r[0], json.loads(r[1])) for r in rows]


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in the test week: day 0 = Monday 9 March 2026."""
    return datetime(2026, 3, 9 + day, hour, minute, tzinfo=BERLIN)
