"""Live sync on a plain background thread, for the window opened right after the set-up wizard.

A stand-in until the GUI's sync controller is composed in app.py: it runs `SyncSession.run_live`
(push, pull, streaming notifications) on its own thread and tells the window's listener, from that
thread, what changed. Qt-free; the window marshals listener calls onto the GUI thread itself.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from calendar_app.security.secret_store import SecretStore
from calendar_app.services.sync_session import SessionError, SyncSession
from calendar_app.services.sync_status import (
    ActivityEvent,
    ActivityLevel,
    ConnectionState,
    SyncStatus,
    SyncStatusListener,
)
from calendar_app.store.app_paths import AppPaths
from calendar_app.sync.report import SyncReport

log = logging.getLogger(__name__)


class BackgroundSync:
    def __init__(self, paths: AppPaths, secrets: SecretStore, server_text: str) -> None:
        self._paths = paths
        self._secrets = secrets
        self._server_text = server_text
        self._listeners: list[SyncStatusListener] = []
        self._cancel = threading.Event()
        self._local_change = threading.Event()
        self._status = SyncStatus(ConnectionState.SYNCING, f"Connecting to {server_text}…", 0, None)
        self._known: set[str] = set()
        self._thread = threading.Thread(target=self._run, name="background-sync", daemon=True)

    # -- SyncStatusSource ------------------------------------------------------------------
    def add_listener(self, listener: SyncStatusListener) -> None:
        self._listeners.append(listener)

    def current_status(self) -> SyncStatus:
        return self._status

    def request_sync(self) -> None:
        self._local_change.set()

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_seconds: float = 10.0) -> None:
        self._cancel.set()
        self._local_change.set()
        if self._thread.is_alive():
            self._thread.join(timeout_seconds)

    def _run(self) -> None:
        try:
            session = SyncSession.open(self._paths, secrets=self._secrets)
        except SessionError as error:
            self._publish_status(SyncStatus(ConnectionState.STOPPED, str(error), 0, None))
            return
        try:
            self._known = self._uuids(session)
            session.run_live(self._cancel, local_change=self._local_change,
                             on_report=lambda report: self._reported(session, report))
        except Exception as error:
            log.exception("background sync stopped")
            self._publish_status(SyncStatus(ConnectionState.STOPPED, f"Sync stopped: {error}", 0, None))
        finally:
            session.close()

    def _reported(self, session: SyncSession, report: SyncReport) -> None:
        if report.fatal_error:
            state, text = ConnectionState.STOPPED, report.fatal_error
        elif report.retry_reason:
            state, text = ConnectionState.OFFLINE, report.retry_reason
        else:
            state, text = ConnectionState.ONLINE, f"Connected to {self._server_text}"
        self._publish_status(SyncStatus(state, text, report.pending, report.finished_at))
        if report.fatal_error:
            for listener in self._listeners:
                listener.activity(ActivityEvent(datetime.now(UTC), ActivityLevel.ERROR, "Sync stopped",
                                                report.fatal_error))
        now = self._uuids(session)
        # The report counts changes but does not name them: tell the window about every item once
        # anything changed (a small calendar right after set-up; the sync controller is finer).
        if report.pushed or report.created_locally or report.updated_locally or report.deleted_locally:
            for uuid in sorted(now | self._known):
                for listener in self._listeners:
                    listener.appointment_changed(uuid)
        self._known = now

    def _publish_status(self, status: SyncStatus) -> None:
        self._status = status
        for listener in self._listeners:
            listener.status_changed(status)

    @staticmethod
    def _uuids(session: SyncSession) -> set[str]:
        with session.database.reading() as connection:
            return {str(row[0]) for row in connection.execute("SELECT uuid FROM appointments")}
