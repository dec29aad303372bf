"""Screenshots of the calendar for the README: `make screenshots` runs this under Xvfb.

Builds a throw-away calendar with a realistic sales week, fixes "now" and the locale so the
pictures are reproducible, and saves PNGs of each view and dialog.

    python tools/screenshots.py OUT_DIR [--only day,week,...] [--suffix @2x]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtCore import QLocale, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from calendar_app.domain import FreeBusy, new_appointment
from calendar_app.gui.calendar.navigation import ViewMode
from calendar_app.gui.main_window import MainWindow
from calendar_app.services.calendar_service import CalendarService
from calendar_app.services.sync_status import (
    ActivityEvent,
    ActivityLevel,
    ConnectionState,
    SyncStatus,
    SyncStatusListener,
)
from calendar_app.store import Database
from calendar_app.store.settings_file import Settings

ZONE = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 11, 10, 40, tzinfo=ZONE)
MONDAY = NOW.date() - timedelta(days=NOW.weekday())
ALL_SHOTS = ("day", "week", "full-week", "month", "agenda", "editor", "conflict")


class FixedSyncStatus:
    """A connected, recently synced status for the pictures (no sync engine runs here)."""

    def __init__(self) -> None:
        self.listeners: list[SyncStatusListener] = []

    def add_listener(self, listener: SyncStatusListener) -> None:
        self.listeners.append(listener)

    def current_status(self) -> SyncStatus:
        return SyncStatus(ConnectionState.ONLINE, "Connected to mail.contoso.com", 2,
                          NOW - timedelta(minutes=2))

    def request_sync(self) -> None:
        return None


def fill(service: CalendarService) -> dict[str, str]:
    """A rep's week. Returns uuids worth pointing at by name."""
    def at(day: int, hour: float, minutes: int, subject: str, **other: object) -> str:
        start = datetime.combine(MONDAY + timedelta(days=day), time(0), ZONE) + timedelta(hours=hour)
        a = new_appointment(subject=subject, start=start, end=start + timedelta(minutes=minutes),
                            timezone="Europe/Berlin", **other)  # type: ignore[arg-type]
        service.save(a)
        return a.uuid

    def all_day(day: int, days: int, subject: str, **other: object) -> str:
        start = datetime.combine(MONDAY + timedelta(days=day), time(0), ZONE)
        a = new_appointment(subject=subject, start=start, end=start + timedelta(days=days),
                            timezone="Europe/Berlin", is_all_day=True, **other)  # type: ignore[arg-type]
        service.save(a)
        return a.uuid

    ids: dict[str, str] = {}
    ids["fair"] = all_day(2, 2, "Hannover trade fair", categories=("Event",))
    all_day(0, 1, "Quarter-end pipeline review", categories=("Internal",))
    for day in range(5):
        at(day, 8.5, 15, "Team stand-up", categories=("Internal",), free_busy=FreeBusy.BUSY)
    ids["northwind"] = at(0, 10, 90, "Northwind Traders — renewal", location="Northwind HQ, Hamburg",
                          required_attendees=("anna.schmidt@northwind.example", "j.meyer@northwind.example"),
                          optional_attendees=("lea.vogel@contoso.example",), categories=("Customer",),
                          body="Renewal terms for 2026–2028; bring the volume discount sheet.")
    at(0, 10.5, 60, "Call with Fabrikam procurement", location="Teams",
       required_attendees=("buyer@fabrikam.example",), categories=("Prospect",))
    at(0, 13, 60, "Lunch with Julia (Adventure Works)", location="Café Paris", categories=("Customer",),
       free_busy=FreeBusy.TENTATIVE)
    at(0, 15, 120, "Proposal writing", free_busy=FreeBusy.BUSY, is_private=True)
    ids["demo"] = at(1, 9, 60, "Product demo: Contoso Pharma", location="Zoom",
                     required_attendees=("it@contoso-pharma.example",), categories=("Prospect",))
    at(1, 9.5, 60, "Pricing approval", location="Room 4.12", categories=("Internal",))
    at(1, 9.75, 45, "Quick sync with legal", location="Room 4.03", categories=("Internal",))
    at(1, 14, 90, "Territory planning", location="Room 2.01", categories=("Internal",))
    ids["tailspin"] = at(2, 11, 60, "Tailspin Toys kickoff", location="Tailspin office, Munich",
                         required_attendees=("cto@tailspin.example",), categories=("Customer",))
    at(2, 16, 45, "Expense report", free_busy=FreeBusy.FREE)
    at(3, 10, 120, "Wingtip workshop", location="Wingtip Toys, Berlin", categories=("Customer",),
       required_attendees=("ops@wingtip.example", "cfo@wingtip.example"))
    at(3, 14, 60, "Forecast call with Lena", location="Phone", categories=("Internal",))
    at(4, 9, 60, "Coaching session", location="Room 1.10", categories=("Internal",))
    at(4, 11, 30, "Follow-up: Litware", location="Teams", categories=("Prospect",))
    at(4, 12, 60, "Team lunch", location="Canteen", categories=("Internal",), free_busy=FreeBusy.FREE)
    at(5, 10, 120, "Customer golf day", location="Golfclub Wannsee", categories=("Event",))
    # the rest of the month, so the month view has something to show
    subjects = ("Account review", "Discovery call", "Quote follow-up", "Site visit", "Contract signing",
                "Partner meeting", "Pipeline call")
    for offset in range(-14, 26):
        day = (MONDAY + timedelta(days=offset))
        if 0 <= offset < 7 or day.weekday() >= 5:
            continue
        for k in range((offset * 7) % 3 + 1):
            at(offset, 9 + 2.5 * k + (offset % 2), 60, subjects[(offset + k) % len(subjects)],
               categories=(("Customer", "Prospect", "Internal")[(offset + k) % 3],))
    return ids


def sync_states(service: CalendarService, ids: dict[str, str]) -> None:
    """Most appointments synced, one pending, one failed, one in conflict (as sync would leave them)."""
    records = service.sync_records
    for stored in service.appointments.all():
        a = stored.appointment
        if a.uuid in (ids["demo"],):
            continue
        records.mark_synced(a.uuid, item_id=f"AAMk-{a.uuid}", change_key="CK1", snapshot=a.to_dict())
    with service.database.transaction() as c:  # the pushes these stand for have happened
        c.execute("DELETE FROM outbox WHERE uuid != ?", (ids["demo"],))
    records.mark_state(ids["tailspin"], "failed",
                       "Exchange refused the change: the mailbox of cto@tailspin.example is full.")
    northwind = service.get(ids["northwind"])
    assert northwind is not None
    mine = northwind.appointment
    theirs = mine.with_changes(start=mine.start + timedelta(minutes=30), end=mine.end + timedelta(minutes=30),
                               location="Northwind HQ, Hamburg — Room Elbe",
                               optional_attendees=())
    records.mark_synced(mine.uuid, item_id=f"AAMk-{mine.uuid}", change_key="CK2", snapshot=theirs.to_dict())
    for name in ("start", "end", "location"):
        records.record_conflict(mine.uuid, name, None, mine.to_dict()[name], theirs.to_dict()[name])
    local = mine.with_changes(subject="Northwind Traders — renewal (final terms)")
    service.appointments.update(local)
    records.mark_state(mine.uuid, "conflict")


def save(widget: QWidget, out: Path, name: str) -> None:
    QApplication.processEvents()
    widget.grab().save(str(out / f"{name}.png"))
    print(out / f"{name}.png")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--only", default=",".join(ALL_SHOTS))
    parser.add_argument("--suffix", default="")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    shots = set(args.only.split(","))
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))
    app = QApplication(sys.argv[:1])
    app.setStyle("Fusion")
    with tempfile.TemporaryDirectory() as folder:
        service = CalendarService(Database.open(Path(folder) / "calendar.sqlite3"))
        ids = fill(service)
        sync_states(service, ids)
        window = MainWindow(service, Settings(integration_enabled=True, ews_url="https://mail.contoso.com/ews/"
                                                                                 "Exchange.asmx"),
                            sync_source=FixedSyncStatus(), zone=ZONE, now=lambda: NOW)
        window.resize(1500, 900)
        window.show()
        for minutes, level, message, explanation, uuid in (
            (31, ActivityLevel.INFO, "Synced: 3 sent, 5 received", "", None),
            (14, ActivityLevel.WARNING, "Conflict on “Northwind Traders — renewal”",
             "Changed here and in Exchange since the last sync: open it to choose which version to keep.",
             ids["northwind"]),
            (9, ActivityLevel.ERROR, "Exchange did not accept “Tailspin Toys kickoff”",
             "The mailbox of cto@tailspin.example is full. The change is kept here; it is sent again on the "
             "next sync.", ids["tailspin"]),
            (2, ActivityLevel.INFO, "Synced: 1 sent, 2 received", "", None),
        ):
            window.activity_panel.add(ActivityEvent(NOW - timedelta(minutes=minutes), level, message, explanation,
                                                    uuid))
        window.week_view.scroll_to_hour(7.75)
        window._selected(ids["northwind"])
        if "day" in shots:
            window.set_view(ViewMode.DAY)
            window.go_to(MONDAY)
            window.week_view.scroll_to_hour(7.75)
            save(window, args.out, f"day{args.suffix}")
        window.go_to(NOW.date())
        if "week" in shots:
            window.set_view(ViewMode.WORK_WEEK)
            window.week_view.scroll_to_hour(7.75)
            save(window, args.out, f"week{args.suffix}")
        if "full-week" in shots:
            window.set_view(ViewMode.WEEK)
            window.week_view.scroll_to_hour(7.75)
            save(window, args.out, f"full-week{args.suffix}")
        if "month" in shots:
            window.set_view(ViewMode.MONTH)
            save(window, args.out, f"month{args.suffix}")
        if "agenda" in shots:
            window.set_view(ViewMode.AGENDA)
            window.go_to(MONDAY)
            window.activity_dock.show()
            save(window, args.out, f"agenda{args.suffix}")
            window.activity_dock.hide()
        if "editor" in shots:
            window.set_view(ViewMode.WORK_WEEK)
            stored = service.get(ids["demo"])
            assert stored is not None
            editor = window.open_appointment(ids["demo"])
            assert editor is not None
            editor.required.setText("it@contoso-pharma.example; not-an-address")
            editor.try_save()  # shows the inline message under the attendees
            editor.adjustSize()
            save(editor, args.out, f"editor{args.suffix}")
            editor.reject()
        if "conflict" in shots:
            dialog = window.open_conflict_dialog(ids["northwind"])
            assert dialog is not None
            dialog.choose("Location", 1)
            dialog.resize(860, 460)
            save(dialog, args.out, f"conflict{args.suffix}")
            dialog.reject()
        QTimer.singleShot(0, app.quit)
        app.exec()
        window.close()
        service.database.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
