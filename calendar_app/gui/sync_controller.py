"""The sync thread: one long-lived QThread whose worker runs the engine's real-time loop
(`sync.live_sync.run_live`: push at once, pull when Exchange's stream says so, catch up
periodically).

GUI → sync: `request_sync()` sets the loop's local-change event (thread-safe: it never blocks),
`stop()` sets its cancel event. Sync → GUI: the loop's reports become Qt signals, queued onto the GUI thread, and are
turned into the window's immutable `SyncStatus` / `ActivityEvent` values and per-appointment
changes. The engine, its SQLite connection, its Exchange session and the streaming feed all live
off the GUI thread; building them (keyring, keystore) happens there too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread, Signal, Slot

from calendar_app.services.sync_status import (
    ActivityEvent,
    ActivityLevel,
    ConnectionState,
    SyncStatus,
    SyncStatusListener,
)

if TYPE_CHECKING:  # the sync package loads on the sync thread, not on the way to the first paint
    from calendar_app.sync.report import SyncReport

log = logging.getLogger(__name__)

# Runs on the sync thread until `cancel` is set: push/pull in real time, waking early when
# `local_change` is set, reporting every run. Building the session (keyring, keystore, Exchange
# account) happens inside, off the GUI thread. May raise if the session cannot be built.
LiveRunner = Callable[[threading.Event, threading.Event, Callable[["SyncReport"], None]], None]

# Many changes in one run: re-reading the visible range beats one re-read per appointment.
BULK_CHANGE_THRESHOLD = 200


class _SyncWorker(QObject):
    report = Signal(object)  # SyncReport
    failed = Signal(str)  # the loop could not be built or died: why
    finished = Signal()

    def __init__(self, runner: LiveRunner) -> None:
        super().__init__()
        self._runner = runner
        self.cancel = threading.Event()
        self.local_change = threading.Event()

    @Slot()
    def run(self) -> None:
        """Blocks the sync thread until stopped. Nothing escapes: failures become `failed`."""
        try:
            self._runner(self.cancel, self.local_change, self.report.emit)
        except Exception as error:
            log.exception("the sync thread stopped")
            self.failed.emit(str(error) or type(error).__name__)
        finally:
            self.finished.emit()


class SyncController(QObject):
    """The window's `SyncStatusSource`. `start()` once; `stop()` on exit (returns within ~5 s)."""

    _start_worker = Signal()

    def __init__(self, runner: LiveRunner, *, server_text: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._server_text = server_text
        self._listeners: list[SyncStatusListener] = []
        self._status = SyncStatus(ConnectionState.SYNCING, f"Connecting to {server_text}…", 0, None)
        self._thread = QThread()
        self._thread.setObjectName("calendar-sync")
        self._worker = _SyncWorker(runner)
        self._worker.moveToThread(self._thread)
        self._start_worker.connect(self._worker.run)
        self._worker.report.connect(self._on_report)
        self._worker.failed.connect(self._on_failed)
        self._worker.finished.connect(self._thread.quit)
        self.reports_seen = 0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._thread.start()
        self._start_worker.emit()  # queued: runs on the sync thread

    def stop(self, timeout_seconds: float = 5.0) -> bool:
        """Ask the loop to end and wait for the thread. A request in flight is not cut off."""
        self._worker.cancel.set()
        self._thread.quit()
        return bool(self._thread.wait(int(timeout_seconds * 1000)))

    # ------------------------------------------------------------------ SyncStatusSource
    def add_listener(self, listener: SyncStatusListener) -> None:
        self._listeners.append(listener)

    def current_status(self) -> SyncStatus:
        return self._status

    def request_sync(self) -> None:
        self._worker.local_change.set()

    # ------------------------------------------------------------------ sync thread → GUI thread
    def _set_status(self, state: ConnectionState, text: str, pending: int,
                    last_sync: datetime | None = None) -> None:
        self._status = SyncStatus(state, text, pending, last_sync or self._status.last_sync)
        for listener in self._listeners:
            listener.status_changed(self._status)

    def _tell(self, level: ActivityLevel, message: str, explanation: str = "", uuid: str | None = None) -> None:
        event = ActivityEvent(datetime.now(UTC), level, message, explanation, uuid)
        for listener in self._listeners:
            listener.activity(event)

    @Slot(str)
    def _on_failed(self, reason: str) -> None:
        self._set_status(ConnectionState.STOPPED, f"Sync stopped: {reason}", self._status.pending_count)
        self._tell(ActivityLevel.ERROR, "Sync stopped", f"{reason} Check Settings, then restart the app.")

    @Slot(object)
    def _on_report(self, report: SyncReport) -> None:
        self.reports_seen += 1
        if len(report.changed_uuids) > BULK_CHANGE_THRESHOLD:
            for listener in self._listeners:
                listener.everything_changed()
        else:
            for uuid in report.changed_uuids:
                for listener in self._listeners:
                    listener.appointment_changed(uuid)
        for failure in report.failures:
            self._tell(ActivityLevel.ERROR, "An appointment could not be synced", failure.message, failure.uuid)
        for note in report.notes:
            self._tell(ActivityLevel.INFO, "Sync notice", note)
        if report.mass_delete_blocked:
            self._tell(ActivityLevel.WARNING, "Exchange suddenly shows an empty calendar",
                       f"{report.mass_delete_blocked} local appointments would have been deleted; nothing was "
                       "deleted. Check the mailbox in Outlook before syncing again.")
        if report.new_conflicts:
            self._tell(ActivityLevel.WARNING, f"{report.new_conflicts} appointment(s) changed on both sides",
                       "Open them to choose which version to keep.")
        if report.fatal_error:
            self._set_status(ConnectionState.STOPPED, report.fatal_error, report.pending)
            self._tell(ActivityLevel.ERROR, "Sync stopped until the connection is fixed", report.fatal_error)
            return
        if report.retry_after_seconds is not None:
            self._set_status(ConnectionState.OFFLINE, f"Offline: {report.retry_reason or 'Exchange unavailable'}",
                             report.pending)
            self._tell(ActivityLevel.WARNING, "Sync paused",
                       f"{report.retry_reason or ''} Next try in {report.retry_after_seconds:.0f} s.".strip())
            return
        if report.pushed or report.created_locally or report.updated_locally or report.deleted_locally:
            self._tell(ActivityLevel.INFO, report.summary())
        self._set_status(ConnectionState.ONLINE, f"Connected to {self._server_text}", report.pending,
                         report.finished_at)
