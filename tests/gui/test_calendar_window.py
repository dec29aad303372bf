"""The calendar window against a real SQLite store: every gesture is checked in the store
(appointment values and outbox operations), not just on screen."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from calendar_app.gui.calendar.navigation import ViewMode
from calendar_app.gui.calendar.time_grid_view import GUTTER, HOUR_HEIGHT
from calendar_app.services.calendar_service import CalendarService
from calendar_app.services.sync_status import (
    ActivityEvent,
    ActivityLevel,
    ConnectionState,
    SyncStatus,
    SyncStatusListener,
)
from calendar_app.store.settings_file import Settings

from .conftest import BERLIN, NOW, add, at, make_window, mark_pushed, outbox_rows


def slot_point(window, day_index: int, hour: float) -> QPoint:
    view = window.week_view
    x = GUTTER + view.column_width() * (day_index + 0.5)
    return QPoint(int(x), int(hour * HOUR_HEIGHT) + 2)


def test_create_by_double_click_on_an_empty_slot(qtbot: QtBot, service: CalendarService) -> None:
    window = make_window(qtbot, service)
    assert window.mode == ViewMode.WORK_WEEK and window.week_view.days[0] == at(0, 0).date()
    QTest.mouseDClick(window.week_view.canvas, Qt.MouseButton.LeftButton, pos=slot_point(window, 1, 14))
    editor = window.editor
    assert editor is not None
    editor.subject.setText("Call with Fabrikam")
    editor.required.setText("buyer@fabrikam.example")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert window.editor is None
    [stored] = service.list_range(at(0, 0), at(5, 0))
    a = stored.appointment
    assert (a.subject, a.start, a.end, a.timezone) == ("Call with Fabrikam", at(1, 14), at(1, 14, 30), "Europe/Berlin")
    assert a.required_attendees == ("buyer@fabrikam.example",)
    assert outbox_rows(service, a.uuid) == [("create", [])]
    assert window.model.row_of(a.uuid) >= 0


def test_create_by_dragging_over_empty_slots(qtbot: QtBot, service: CalendarService) -> None:
    window = make_window(qtbot, service)
    canvas = window.week_view.canvas
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, pos=slot_point(window, 2, 9))
    QTest.mouseMove(canvas, slot_point(window, 2, 9.6))
    QTest.mouseMove(canvas, slot_point(window, 2, 10.5))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=slot_point(window, 2, 10.5))
    editor = window.editor
    assert editor is not None
    editor.subject.setText("Tailspin kickoff")
    editor.try_save()
    [stored] = service.list_range(at(0, 0), at(5, 0))
    assert (stored.appointment.start, stored.appointment.end) == (at(2, 9), at(2, 10, 30))


def test_editor_marks_every_bad_field_and_saves_nothing(qtbot: QtBot, service: CalendarService) -> None:
    window = make_window(qtbot, service)
    editor = window.new_appointment(at(0, 9), at(0, 10))
    editor.subject.setText("   ")
    editor.required.setText("anna@northwind.example; not-an-address")
    editor.end.setDateTime(editor.start.dateTime().addSecs(-3600))
    editor.try_save()
    assert editor.errors["subject"].isVisible() and "subject" in editor.errors["subject"].text()
    assert "'not-an-address' is not an e-mail address" in editor.errors["required_attendees"].text()
    assert "end must be after the start" in editor.errors["end"].text()
    assert window.editor is editor and editor.isVisible()
    assert service.list_range(at(0, 0), at(7, 0)) == []


def test_edit_sends_only_the_changed_field(qtbot: QtBot, service: CalendarService) -> None:
    original = add(service, "Wingtip workshop", at(3, 10), 120, location="Berlin")
    mark_pushed(service, original)
    window = make_window(qtbot, service)
    editor = window.open_appointment(original.uuid)
    assert editor is not None and editor.subject.text() == "Wingtip workshop"
    editor.location.setText("Wingtip Toys, Room Spree")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    stored = service.get(original.uuid)
    assert stored is not None
    assert stored.appointment.location == "Wingtip Toys, Room Spree"
    assert stored.appointment.start == original.start and stored.sync_state == "pending"
    assert outbox_rows(service, original.uuid) == [("update", ["location"])]
    row = window.model.row_of(original.uuid)
    assert window.model.index(row, 2).data() == "Wingtip Toys, Room Spree"


def test_move_by_drag_to_another_day_and_time(qtbot: QtBot, service: CalendarService) -> None:
    meeting = add(service, "Pricing approval", at(1, 10), 60)
    mark_pushed(service, meeting)
    window = make_window(qtbot, service)
    canvas = window.week_view.canvas
    grab = slot_point(window, 1, 10.4)
    drop = slot_point(window, 2, 12.4)
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, pos=grab)
    QTest.mouseMove(canvas, grab + QPoint(10, 10))
    QTest.mouseMove(canvas, drop)
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=drop)
    stored = service.get(meeting.uuid)
    assert stored is not None
    assert (stored.appointment.start, stored.appointment.end) == (at(2, 12), at(2, 13))
    assert outbox_rows(service, meeting.uuid) == [("update", ["end", "start"])]
    assert window.model.stored(meeting.uuid).appointment.start == at(2, 12)


def test_resize_by_dragging_the_lower_edge(qtbot: QtBot, service: CalendarService) -> None:
    meeting = add(service, "Territory planning", at(0, 14), 60)
    mark_pushed(service, meeting)
    window = make_window(qtbot, service)
    canvas = window.week_view.canvas
    edge = slot_point(window, 0, 15) - QPoint(0, 5)
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, pos=edge)
    QTest.mouseMove(canvas, edge + QPoint(0, 12))
    QTest.mouseMove(canvas, slot_point(window, 0, 15.5))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=slot_point(window, 0, 15.5))
    stored = service.get(meeting.uuid)
    assert stored is not None
    assert (stored.appointment.start, stored.appointment.end) == (at(0, 14), at(0, 15, 30))
    assert outbox_rows(service, meeting.uuid) == [("update", ["end"])]


def _confirm_cancel(qtbot: QtBot, window, uuid: str) -> None:
    dialog = window.cancel_appointment(uuid)
    assert dialog is not None
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)


def test_cancel_names_the_recipients_and_can_be_undone(qtbot: QtBot, service: CalendarService) -> None:
    meeting = add(service, "Northwind renewal", at(0, 10), 90,
                  required_attendees=("anna@northwind.example",), optional_attendees=("lea@contoso.example",))
    mark_pushed(service, meeting)
    window = make_window(qtbot, service, settings=Settings(integration_enabled=True), undo_seconds=1.0)
    dialog = window.cancel_appointment(meeting.uuid)
    assert dialog is not None
    assert "anna@northwind.example" in dialog.informativeText()
    assert "lea@contoso.example" in dialog.informativeText()
    assert "cancellation will be sent" in dialog.informativeText()
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    assert window.model.row_of(meeting.uuid) == -1 and window.undo_bar.isVisible()
    qtbot.mouseClick(window.undo_bar.undo_button, Qt.MouseButton.LeftButton)
    assert window.model.row_of(meeting.uuid) >= 0 and not window.undo_bar.isVisible()
    qtbot.wait(1300)  # past the undo window: nothing may happen any more
    stored = service.get(meeting.uuid)
    assert stored is not None and not stored.is_cancelled
    assert outbox_rows(service, meeting.uuid) == []


def test_cancel_without_undo_is_committed_after_the_window(qtbot: QtBot, service: CalendarService) -> None:
    meeting = add(service, "Northwind renewal", at(0, 10), 90, required_attendees=("anna@northwind.example",))
    mark_pushed(service, meeting)
    window = make_window(qtbot, service, settings=Settings(integration_enabled=True))
    _confirm_cancel(qtbot, window, meeting.uuid)
    assert outbox_rows(service, meeting.uuid) == []  # still inside the undo window
    qtbot.waitUntil(lambda: outbox_rows(service, meeting.uuid) == [("cancel", [])], timeout=10000)
    assert service.get(meeting.uuid) is None
    assert service.appointments.get(meeting.uuid).is_cancelled
    assert window.model.row_of(meeting.uuid) == -1


def test_keep_it_leaves_the_appointment_alone(qtbot: QtBot, service: CalendarService) -> None:
    meeting = add(service, "Coaching", at(4, 9))
    window = make_window(qtbot, service)
    dialog = window.cancel_appointment(meeting.uuid)
    assert dialog is not None
    assert "removed from this calendar" in dialog.informativeText()
    qtbot.mouseClick(dialog.keep_button, Qt.MouseButton.LeftButton)
    assert not window.undo_bar.isVisible() and window.model.row_of(meeting.uuid) >= 0
    assert service.get(meeting.uuid) is not None


def test_closing_the_window_commits_a_waiting_cancellation(qtbot: QtBot, service: CalendarService) -> None:
    meeting = add(service, "Coaching", at(4, 9))
    mark_pushed(service, meeting)
    window = make_window(qtbot, service, undo_seconds=60)
    _confirm_cancel(qtbot, window, meeting.uuid)
    window.close()
    assert outbox_rows(service, meeting.uuid) == [("cancel", [])]


def _conflicted(service: CalendarService):
    """A synced meeting the rep renamed here while someone moved it and changed the room in
    Exchange; the sync engine stored Exchange's version as the snapshot and recorded conflicts."""
    mine = add(service, "Northwind renewal", at(0, 10), 90, location="Northwind HQ")
    mark_pushed(service, mine)
    theirs = mine.with_changes(start=at(0, 11), end=at(0, 12, 30), location="Northwind HQ, Room Elbe")
    mine = mine.with_changes(subject="Northwind renewal (final terms)", location="Café Paris")
    service.appointments.update(mine)
    for operation in service.outbox.ready():
        service.outbox.complete(operation.id)  # the sync engine's push met the conflict
    service.sync_records.mark_synced(mine.uuid, item_id=f"AAMk{mine.uuid}", change_key="CK2",
                                     snapshot=theirs.to_dict())
    service.sync_records.record_conflict(mine.uuid, "location", "Northwind HQ", mine.location, theirs.location)
    service.sync_records.mark_state(mine.uuid, "conflict")
    return mine, theirs


def test_conflict_resolved_field_by_field(qtbot: QtBot, service: CalendarService) -> None:
    mine, theirs = _conflicted(service)
    window = make_window(qtbot, service)
    assert window.model.stored(mine.uuid).sync_state == "conflict"
    dialog = window.open_appointment(mine.uuid)  # a conflicted item opens the conflict dialog
    assert dialog is window.conflict_dialog and dialog is not None
    labels = [label for label, _ in dialog.groups]
    assert labels == ["Subject", "When", "Location"]
    dialog.choose("Location", 1)  # Exchange's room
    dialog.choose("When", 1)  # Exchange's time
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    stored = service.get(mine.uuid)
    assert stored is not None
    a = stored.appointment
    assert (a.subject, a.location, a.start, a.end) == (mine.subject, theirs.location, theirs.start, theirs.end)
    assert service.conflicts(mine.uuid) == []
    assert stored.sync_state == "pending"
    assert outbox_rows(service, mine.uuid) == [("update", ["subject"])]
    assert window.model.stored(mine.uuid).sync_state == "pending"


def test_taking_all_of_exchanges_version_sends_nothing(qtbot: QtBot, service: CalendarService) -> None:
    mine, theirs = _conflicted(service)
    window = make_window(qtbot, service)
    dialog = window.open_conflict_dialog(mine.uuid)
    assert dialog is not None
    qtbot.mouseClick(dialog.take_exchange, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    stored = service.get(mine.uuid)
    assert stored is not None and stored.appointment == theirs and stored.sync_state == "synced"
    assert outbox_rows(service, mine.uuid) == []


def test_offline_editing_queues_and_says_so(qtbot: QtBot, service: CalendarService) -> None:
    window = make_window(qtbot, service, settings=Settings(integration_enabled=True,
                                                           ews_url="https://mail.example.com/EWS/Exchange.asmx"))
    assert window.connection_label.text().startswith("Offline")
    assert window.status_widget.pending_label.text() == "All changes sent"
    editor = window.new_appointment(at(2, 15), at(2, 16))
    editor.subject.setText("Offline notes")
    editor.try_save()
    existing = add(service, "Earlier", at(3, 9))
    mark_pushed(service, existing)
    window.appointment_changed(existing.uuid)
    window.move_appointment(existing.uuid, at(3, 11), at(3, 12))
    [created] = [s for s in service.list_range(at(0, 0), at(7, 0)) if s.appointment.subject == "Offline notes"]
    assert outbox_rows(service, created.appointment.uuid) == [("create", [])]
    assert outbox_rows(service, existing.uuid) == [("update", ["end", "start"])]
    assert window.status_widget.pending_label.text() == "2 changes waiting to be sent"
    assert window.model.stored(existing.uuid).sync_state == "pending"


def test_integration_off_is_a_local_calendar(qtbot: QtBot, service: CalendarService) -> None:
    window = make_window(qtbot, service)
    assert window.connection_label.text() == "Exchange integration is off: this is a local calendar."
    assert not window.status_widget.sync_button.isEnabled()
    assert window.model.index(0, 0).isValid() is False


class RecordingSyncSource:
    """The window's side of the sync contract: it remembers the listener and counts requests.
    (The sync engine itself is another branch; this drives the same calls it will make.)"""

    def __init__(self) -> None:
        self.listeners: list[SyncStatusListener] = []
        self.requests = 0
        self.status = SyncStatus(ConnectionState.ONLINE, "Connected to mail.example.com", 0,
                                 NOW - timedelta(minutes=3))

    def add_listener(self, listener: SyncStatusListener) -> None:
        self.listeners.append(listener)

    def current_status(self) -> SyncStatus:
        return self.status

    def request_sync(self) -> None:
        self.requests += 1


def test_sync_news_updates_single_rows_from_another_thread(qtbot: QtBot, service: CalendarService) -> None:
    first = add(service, "Stand-up", at(1, 8, 30), 15)
    second = add(service, "Demo", at(1, 9), 60)
    source = RecordingSyncSource()
    window = make_window(qtbot, service, sync_source=source)
    assert "Connected to mail.example.com" in window.connection_label.text()
    assert window.status_widget.last_sync_label.text() == "Last sync: today 10:37"
    resets: list[int] = []
    inserted: list[int] = []
    window.model.modelReset.connect(lambda: resets.append(1))
    window.model.rowsInserted.connect(lambda _parent, first_row, _last: inserted.append(first_row))

    pulled = add(service, "Pulled from Exchange", at(1, 8), 30)  # as the sync worker would store it
    mark_pushed(service, first)

    def sync_thread() -> None:
        listener = source.listeners[0]
        listener.appointment_changed(first.uuid)
        listener.appointment_changed(pulled.uuid)
        listener.status_changed(SyncStatus(ConnectionState.ONLINE, "Connected to mail.example.com", 1,
                                           datetime(2026, 3, 11, 9, 45, tzinfo=UTC)))
        listener.activity(ActivityEvent(datetime(2026, 3, 11, 9, 45, tzinfo=UTC), ActivityLevel.ERROR,
                                        "Exchange rejected “Demo”", "The organizer's mailbox is full.",
                                        second.uuid))

    worker = threading.Thread(target=sync_thread)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: window.activity_panel.list.count() == 1, timeout=10000)
    assert resets == [] and inserted == [0]
    assert window.model.stored(first.uuid).sync_state == "synced"
    assert window.model.rowCount() == 3
    assert window.status_widget.pending_label.text() == "1 change waiting to be sent"
    assert window.status_widget.last_sync_label.text() == "Last sync: today 10:45"
    assert "mailbox is full" in window.activity_panel.list.item(0).text()
    window.model.refresh(second.uuid)
    assert resets == []

    bulk = add(service, "From a full resync", at(1, 15))
    threading.Thread(target=source.listeners[0].everything_changed).start()
    qtbot.waitUntil(lambda: window.model.row_of(bulk.uuid) >= 0, timeout=10000)

    editor = window.open_appointment(second.uuid)
    assert editor is not None
    editor.subject.setText("Demo (moved room)")
    editor.try_save()
    assert source.requests == 1  # a local edit pokes the sync worker
    qtbot.mouseClick(window.status_widget.sync_button, Qt.MouseButton.LeftButton)
    assert source.requests == 2


def test_keyboard_shortcuts_switch_views_and_navigate(qtbot: QtBot, service: CalendarService) -> None:
    meeting = add(service, "Forecast", at(3, 14))
    window = make_window(qtbot, service)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=10000)
    QTest.keyClick(window, Qt.Key.Key_3)
    assert window.mode == ViewMode.MONTH and window.period_title.text() == "March 2026"
    QTest.keyClick(window, Qt.Key.Key_Right)
    assert window.period_title.text() == "April 2026"
    QTest.keyClick(window, Qt.Key.Key_T)
    assert window.anchor == NOW.date()
    QTest.keyClick(window, Qt.Key.Key_1)
    assert window.mode == ViewMode.DAY and window.period_title.text() == "Wednesday 11 March 2026"
    QTest.keyClick(window, Qt.Key.Key_2)
    assert window.mode == ViewMode.WORK_WEEK and window.period_title.text() == "9 – 13 March 2026"
    QTest.keyClick(window, Qt.Key.Key_W)
    assert window.mode == ViewMode.WEEK and len(window.week_view.days) == 7
    QTest.keyClick(window, Qt.Key.Key_4)
    assert window.mode == ViewMode.AGENDA and window.model.row_of(meeting.uuid) == 0  # 30 days from today
    QTest.keyClick(window, Qt.Key.Key_2)
    window._selected(meeting.uuid)
    QTest.keyClick(window, Qt.Key.Key_Return)
    assert window.editor is not None and window.editor.subject.text() == "Forecast"
    window.editor.reject()
    QTest.keyClick(window, Qt.Key.Key_Delete)
    assert window.cancel_confirmation is not None
    window.cancel_confirmation.reject()
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.editor is not None and window.editor.windowTitle() == "New appointment"


def test_overlapping_appointments_sit_side_by_side(qtbot: QtBot, service: CalendarService) -> None:
    a = add(service, "A", at(1, 9), 60)
    b = add(service, "B", at(1, 9, 30), 60)
    c = add(service, "C", at(1, 11), 60)
    day = add(service, "Trade fair", at(1, 0), 24 * 60)
    window = make_window(qtbot, service)
    timed, bars = window.week_view.layout_items()
    placed = {block.stored.appointment.uuid: (block.column, block.columns) for block in timed}
    assert placed[a.uuid] == (0, 2) and placed[b.uuid] == (1, 2) and placed[c.uuid] == (0, 1)
    assert [bar.stored.appointment.uuid for bar in bars] == [day.uuid]


def test_week_follows_the_locale_and_the_zone_is_shown(qtbot: QtBot, service: CalendarService) -> None:
    from PySide6.QtCore import QLocale

    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
    window = make_window(qtbot, service)
    window.set_view(ViewMode.WEEK)
    assert window.week_view.days[0].isoweekday() == 7  # US weeks start on Sunday
    assert window.period_title.text() == "8 – 14 March 2026"
    assert window.side_panel.findChild(type(window.connection_label), "zoneLabel").text().endswith(
        "<b>Europe/Berlin</b>")
    assert str(BERLIN) == "Europe/Berlin"


def test_a_prefetched_week_never_shows_stale_data(qtbot: QtBot, service: CalendarService) -> None:
    next_week = add(service, "Account review", at(7, 10))
    window = make_window(qtbot, service)
    start, end = window.visible_range(at(7, 0).date())
    qtbot.waitUntil(lambda: window.range_loader.take((start, end)) is not None, timeout=10000)
    service.save(next_week.with_changes(subject="Account review (moved to Teams)"))
    window.appointment_changed(next_week.uuid)  # as after any save here or news from sync
    [cached] = window.range_loader.take((start, end)) or []
    assert cached.appointment.subject == "Account review (moved to Teams)"
    window.step(1)
    assert window.model.stored(next_week.uuid).appointment.subject == "Account review (moved to Teams)"


def open_descriptors_of(path: Path) -> int:
    """How many file descriptors of this process point at `path`: one per open SQLite connection
    (SQLite keeps a closed connection's descriptor for the next one while others hold locks)."""
    count = 0
    for descriptor in Path("/proc/self/fd").iterdir():
        try:
            if descriptor.readlink() == path:
                count += 1
        except OSError:  # closed while listing
            continue
    return count


def test_paging_through_weeks_keeps_one_reader_connection(qtbot: QtBot, service: CalendarService) -> None:
    add(service, "Account review", at(7, 10))
    window = make_window(qtbot, service)
    database_file = service.database.path.resolve()
    before = open_descriptors_of(database_file)
    for page in range(30):
        window.range_loader.invalidate()  # as after news from sync: the neighbours are read again
        window.step(1 if page % 2 == 0 else -1)
        following_week = window.visible_range(window.anchor + timedelta(days=7))
        qtbot.waitUntil(lambda following_week=following_week: window.range_loader.take(following_week) is not None,
                        timeout=10000)
    # this thread's connection, plus at most the reader thread's own
    assert open_descriptors_of(database_file) <= max(before, 1) + 1
    window.close()
    assert "calendar-range-reader" not in {thread.name for thread in threading.enumerate()}


def test_badges_explain_the_sync_state(qtbot: QtBot, service: CalendarService) -> None:
    synced = add(service, "Synced one", at(0, 9))
    mark_pushed(service, synced)
    failed = add(service, "Rejected one", at(0, 11))
    service.sync_records.mark_state(failed.uuid, "failed", "The organizer's mailbox is full.")
    window = make_window(qtbot, service, sync_source=RecordingSyncSource())
    view = window.week_view
    assert view.tooltip_for(window.model.stored(synced.uuid), True).startswith("Synced")
    text = view.tooltip_for(window.model.stored(failed.uuid), True)
    assert text.startswith("Failed") and "mailbox is full" in text
    assert window.model.index(window.model.row_of(failed.uuid), 3).data() == "! failed"
    local = make_window(qtbot, service)  # integration off: no sync claims at all
    assert local.week_view.tooltip_for(local.model.stored(synced.uuid), True) == (
        "Saved in this calendar (Exchange integration is off).")


def test_the_editor_says_why_exchange_refused_a_change(qtbot: QtBot, service: CalendarService) -> None:
    failed = add(service, "Tailspin kickoff", at(2, 11))
    service.sync_records.mark_state(failed.uuid, "failed", "The mailbox of cto@tailspin.example is full.")
    window = make_window(qtbot, service, settings=Settings(integration_enabled=True))
    editor = window.open_appointment(failed.uuid)
    assert editor is not None and editor.sync_note.isVisible()
    assert "mailbox of cto@tailspin.example is full" in editor.sync_note.text()
