"""The Qt sync controller over the real engine, a real SQLite store and the Exchange-like fake:
local edits reach the remote, remote changes reach the window's rows, failures reach the status
bar, and the GUI thread stays free while the sync thread waits on a slow server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from pytestqt.qtbot import QtBot

from calendar_app.domain import new_appointment
from calendar_app.domain.remote_errors import AuthFailed, RemoteError
from calendar_app.gui.sync_controller import SyncController
from calendar_app.services.calendar_service import CalendarService
from calendar_app.services.sync_status import ConnectionState
from calendar_app.store.settings_file import Settings
from calendar_app.sync.change_notifier import InMemoryChangeNotifier
from calendar_app.sync.engine import SyncEngine
from calendar_app.sync.in_memory_remote import Fault, InMemoryRemoteCalendar
from calendar_app.sync.live_sync import run_live
from calendar_app.sync.report import SyncReport
from tests.gui.conftest import NOW, add, make_window


class SlowRemote(InMemoryRemoteCalendar):
    """Every call takes `delay` seconds, as a distant or busy Exchange would."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    def _call(self, operation, action):  # type: ignore[no-untyped-def,override]
        time.sleep(self.delay)
        return super()._call(operation, action)


@pytest.fixture
def remote() -> InMemoryRemoteCalendar:
    return InMemoryRemoteCalendar()


def controller_for(service: CalendarService, remote: InMemoryRemoteCalendar) -> SyncController:
    def run(cancel: threading.Event, local_change: threading.Event,
            on_report: Callable[[SyncReport], None]) -> None:
        run_live(SyncEngine(service.database, remote), InMemoryChangeNotifier(remote), cancel,
                 local_change=local_change, on_report=on_report, catch_up_seconds=30)

    return SyncController(run, server_text="exchange.test")


@pytest.fixture
def running(service: CalendarService, remote: InMemoryRemoteCalendar) -> Iterator[SyncController]:
    controller = controller_for(service, remote)
    yield controller
    assert controller.stop(), "the sync thread did not stop within 5 s"


def test_a_local_edit_reaches_the_remote_and_the_badge_turns_synced(
        qtbot: QtBot, service: CalendarService, remote: InMemoryRemoteCalendar, running: SyncController) -> None:
    window = make_window(qtbot, service, Settings(integration_enabled=True), sync_source=running)
    running.start()
    qtbot.waitUntil(lambda: running.current_status().state is ConnectionState.ONLINE, timeout=10000)
    mine = add(service, "Quote review", NOW + timedelta(hours=2))
    window.request_sync()
    qtbot.waitUntil(lambda: [i.appointment.subject for i in remote.items()] == ["Quote review"], timeout=10000)
    def shown_as_synced() -> bool:
        stored = window.model.stored(mine.uuid)  # the row arrives with the sync report
        return stored is not None and stored.sync_state == "synced"

    qtbot.waitUntil(shown_as_synced, timeout=10000)
    assert running.current_status().pending_count == 0
    assert running.current_status().last_sync is not None


def test_a_remote_change_reaches_the_window_without_a_poke(
        qtbot: QtBot, service: CalendarService, remote: InMemoryRemoteCalendar, running: SyncController) -> None:
    window = make_window(qtbot, service, Settings(integration_enabled=True), sync_source=running)
    running.start()
    qtbot.waitUntil(lambda: running.current_status().state is ConnectionState.ONLINE, timeout=10000)
    theirs = new_appointment(subject="Booked in Outlook", start=NOW + timedelta(hours=3),
                             end=NOW + timedelta(hours=4), timezone="Europe/Berlin")
    remote.external_create(theirs)
    remote.external_update(remote.items()[0].item_id, location="Room 7")
    qtbot.waitUntil(lambda: any(s.appointment.subject == "Booked in Outlook" for s in service.list_range(
        NOW - timedelta(days=1), NOW + timedelta(days=1))), timeout=10000)
    uuid = next(s.appointment.uuid for s in service.list_range(NOW - timedelta(days=1), NOW + timedelta(days=1)))

    def row_shows_the_new_room() -> bool:
        # the create and the later change may arrive in one pull or in two
        stored = window.model.stored(uuid)
        return stored is not None and stored.appointment.location == "Room 7"

    qtbot.waitUntil(row_shows_the_new_room, timeout=10000)


def test_a_wrong_password_stops_sync_and_says_so(
        qtbot: QtBot, service: CalendarService, remote: InMemoryRemoteCalendar, running: SyncController) -> None:
    remote.inject(Fault(AuthFailed(), times=1000))
    add(service, "Kept locally", NOW + timedelta(hours=1))
    messages: list[str] = []

    class Listener:
        def status_changed(self, status: object) -> None: ...
        def appointment_changed(self, uuid: str) -> None: ...
        def everything_changed(self) -> None: ...
        def activity(self, event: object) -> None:
            messages.append(event.message)  # type: ignore[attr-defined]

    running.add_listener(Listener())
    running.start()
    qtbot.waitUntil(lambda: running.current_status().state is ConnectionState.STOPPED, timeout=10000)
    assert "password" in running.current_status().text
    assert running.current_status().pending_count == 1  # the edit waits, nothing is lost
    assert "Sync stopped until the connection is fixed" in messages


def test_the_gui_thread_stays_free_while_the_server_is_slow(qtbot: QtBot, service: CalendarService) -> None:
    remote = SlowRemote(delay=1.0)
    for hour in range(3):
        add(service, f"Call {hour}", NOW + timedelta(hours=hour))
    controller = controller_for(service, remote)
    stalls: list[float] = []
    last = [time.monotonic()]

    def beat() -> None:
        now = time.monotonic()
        stalls.append(now - last[0])
        last[0] = now

    from PySide6.QtCore import QTimer

    heartbeat = QTimer()
    heartbeat.setInterval(10)
    heartbeat.timeout.connect(beat)
    heartbeat.start()
    try:
        controller.start()
        qtbot.waitUntil(lambda: len(remote.items()) == 3, timeout=30000)
    finally:
        heartbeat.stop()
        started = time.monotonic()
        assert controller.stop(timeout_seconds=5.0)
        stop_seconds = time.monotonic() - started
    # Not a timing assertion on the machine's speed: a blocked GUI thread would show a gap of at
    # least one server call (1 s); the loop's own jitter on a loaded machine stays far below that.
    assert max(stalls) < 0.5, f"GUI thread stalled {max(stalls):.3f} s"
    assert stop_seconds < 5.0


def test_a_crashing_engine_factory_is_reported_not_raised(qtbot: QtBot) -> None:
    def broken(cancel: object, local_change: object, on_report: object) -> None:
        raise RemoteError("The keystore file is missing. Run the setup wizard again.")

    controller = SyncController(broken, server_text="exchange.test")
    controller.start()
    qtbot.waitUntil(lambda: controller.current_status().state is ConnectionState.STOPPED, timeout=10000)
    assert "keystore file is missing" in controller.current_status().text
    assert controller.stop()
