"""The calendar window with sync on, against the sandbox Exchange over real TLS + NTLM: what the
rep does with the mouse reaches the server (create, move by drag, cancel after the undo window,
edits made while the server is unreachable), and what the server says reaches the window."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from calendar_app.domain import new_appointment
from calendar_app.domain.sign_in import SignInMode
from calendar_app.gui.sync_controller import SyncController
from calendar_app.services.calendar_service import CalendarService
from calendar_app.services.sync_status import ConnectionState
from calendar_app.store.settings_file import Settings
from calendar_app.sync.change_notifier import NoChangeNotifier
from calendar_app.sync.engine import SyncEngine
from calendar_app.sync.live_sync import run_live
from calendar_app.sync.report import SyncReport
from tests.support.exchange_sandbox import REP_MAILBOX, RunningSandbox, SandboxRemote, running_sandbox

from .conftest import at, make_window
from .test_calendar_window import slot_point


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    with running_sandbox(tmp_path / "sandbox") as running:
        yield running


@pytest.fixture
def remote(sandbox: RunningSandbox) -> SandboxRemote:
    return sandbox.remote(SignInMode.IMPERSONATION)


@pytest.fixture
def controller(service: CalendarService, remote: SandboxRemote) -> Iterator[SyncController]:
    def run(cancel: threading.Event, local_change: threading.Event,
            on_report: Callable[[SyncReport], None]) -> None:
        # Real time from the server is tested with the streaming notifier elsewhere; here the
        # window's own pokes and a short catch-up drive the sync.
        run_live(SyncEngine(service.database, remote, retry_base_seconds=0.5), NoChangeNotifier(), cancel,
                 local_change=local_change, on_report=on_report, catch_up_seconds=1.0)

    running = SyncController(run, server_text="sandbox")
    yield running
    assert running.stop(), "the sync thread did not stop within 5 s"


def on_server(remote: SandboxRemote) -> dict[str, tuple[object, object]]:
    return {item.appointment.subject: (item.appointment.start, item.appointment.end) for item in remote.items()}


def test_create_move_and_cancel_reach_exchange(qtbot: QtBot, service: CalendarService, remote: SandboxRemote,
                                               sandbox: RunningSandbox, controller: SyncController) -> None:
    window = make_window(qtbot, service, Settings(integration_enabled=True), sync_source=controller)
    controller.start()
    qtbot.waitUntil(lambda: controller.current_status().state is ConnectionState.ONLINE, timeout=30000)

    # create: double-click an empty slot, fill in the editor, save
    QTest.mouseDClick(window.week_view.canvas, Qt.MouseButton.LeftButton, pos=slot_point(window, 1, 14))
    editor = window.editor
    editor.subject.setText("Call with Fabrikam")
    editor.required.setText("buyer@fabrikam.example")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Call with Fabrikam" in on_server(remote), timeout=30000)
    assert on_server(remote)["Call with Fabrikam"][0] == at(1, 14)
    [stored] = service.list_range(at(0, 0), at(5, 0))
    uuid = stored.appointment.uuid
    qtbot.waitUntil(lambda: window.model.stored(uuid).sync_state == "synced", timeout=30000)
    assert [m.recipient for m in sandbox.server.sent_messages(REP_MAILBOX, kind="invitation")] == [
        "buyer@fabrikam.example"]

    # move by drag to Wednesday 16:00
    canvas = window.week_view.canvas
    grab, drop = slot_point(window, 1, 14.2), slot_point(window, 2, 16.2)
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, pos=grab)
    QTest.mouseMove(canvas, grab + QPoint(10, 10))
    QTest.mouseMove(canvas, drop)
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=drop)
    qtbot.waitUntil(lambda: on_server(remote)["Call with Fabrikam"][0] == at(2, 16), timeout=30000)

    def updates_sent() -> list[str]:
        return [m.recipient for m in sandbox.server.sent_messages(REP_MAILBOX, kind="update")]

    assert updates_sent() == ["buyer@fabrikam.example"]  # a time change: the attendee hears once

    # edit in the editor: a change of place reaches the server and the attendee hears once more
    editor = window.open_appointment(uuid)
    assert editor is window.editor and editor is not None
    editor.location.setText("Teams")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)

    def server_location() -> str:
        [item] = remote.items()
        return item.appointment.location

    qtbot.waitUntil(lambda: server_location() == "Teams", timeout=30000)
    assert updates_sent() == ["buyer@fabrikam.example"] * 2

    # cancel, then undo within the undo window: nothing reaches the server
    dialog = window.cancel_appointment(uuid)
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.undo_bar.undo_button, Qt.MouseButton.LeftButton)
    window.request_sync()
    qtbot.wait(1500)  # past the undo window and a catch-up run
    assert "Call with Fabrikam" in on_server(remote)
    assert sandbox.server.sent_messages(REP_MAILBOX, kind="cancellation") == []

    # cancel: confirmed, the undo window passes, then the attendee gets one cancellation
    dialog = window.cancel_appointment(uuid)
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Call with Fabrikam" not in on_server(remote), timeout=30000)
    cancellations = [m.recipient for m in sandbox.server.sent_messages(REP_MAILBOX, kind="cancellation")]
    assert cancellations == ["buyer@fabrikam.example"]


def test_edits_made_while_exchange_is_unreachable_arrive_afterwards(
        qtbot: QtBot, service: CalendarService, remote: SandboxRemote, sandbox: RunningSandbox,
        controller: SyncController) -> None:
    window = make_window(qtbot, service, Settings(integration_enabled=True), sync_source=controller)
    sandbox.server.faults.add("http503", times=1000)
    controller.start()
    qtbot.waitUntil(lambda: controller.current_status().state is ConnectionState.OFFLINE, timeout=30000)

    QTest.mouseDClick(window.week_view.canvas, Qt.MouseButton.LeftButton, pos=slot_point(window, 3, 9))
    window.editor.subject.setText("Written offline")
    qtbot.mouseClick(window.editor.save_button, Qt.MouseButton.LeftButton)
    [stored] = service.list_range(at(0, 0), at(5, 0))
    qtbot.waitUntil(lambda: window.model.stored(stored.appointment.uuid) is not None, timeout=10000)
    assert window.model.stored(stored.appointment.uuid).sync_state == "pending"
    assert "Written offline" not in on_server(remote)

    sandbox.server.faults.clear()
    qtbot.waitUntil(lambda: "Written offline" in on_server(remote), timeout=30000)
    qtbot.waitUntil(lambda: controller.current_status().state is ConnectionState.ONLINE, timeout=30000)
    assert len(remote.items()) == 1  # exactly once, after all the failed tries


def test_a_conflict_resolved_in_the_dialog_reaches_exchange(
        qtbot: QtBot, service: CalendarService, remote: SandboxRemote, controller: SyncController) -> None:
    # A meeting both sides know; then the rep renames it here while someone else renames it and
    # moves it in Outlook. The engine's push meets the stale change key and records the conflict.
    meeting = new_appointment(subject="Northwind renewal", start=at(0, 10), end=at(0, 11, 30),
                              timezone="Europe/Berlin", location="Northwind HQ")
    service.save(meeting)
    engine = SyncEngine(service.database, remote)
    assert engine.run_once().converged
    [item] = remote.items()
    remote.external_update(item.item_id, subject="Northwind renewal (their title)", start=at(0, 11),
                           end=at(0, 12, 30))
    service.save(meeting.with_changes(subject="Northwind renewal (final terms)"))
    assert engine.run_once().new_conflicts == 1

    window = make_window(qtbot, service, Settings(integration_enabled=True), sync_source=controller)
    controller.start()
    assert window.model.stored(meeting.uuid).sync_state == "conflict"
    dialog = window.open_appointment(meeting.uuid)
    assert dialog is window.conflict_dialog and dialog is not None
    # the move was made on one side only: it merged silently; only the title is in question
    assert [label for label, _ in dialog.groups] == ["Subject"]
    dialog.choose("Subject", 0)  # keep mine
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)

    def settled_on_server() -> bool:
        [now] = remote.items()
        return (now.appointment.subject, now.appointment.start) == ("Northwind renewal (final terms)", at(0, 11))

    qtbot.waitUntil(settled_on_server, timeout=30000)
    qtbot.waitUntil(lambda: window.model.stored(meeting.uuid).sync_state == "synced", timeout=30000)
    assert service.conflicts(meeting.uuid) == []
