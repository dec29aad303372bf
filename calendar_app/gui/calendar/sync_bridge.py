"""Carries sync news onto the GUI thread. The sync side may call the listener methods from
any thread; emitting a Qt signal from there queues the call to the receivers in the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from calendar_app.services.sync_status import ActivityEvent, SyncStatus


class SyncBridge(QObject):
    status = Signal(object)  # SyncStatus
    changed = Signal(str)  # uuid
    all_changed = Signal()
    activity_event = Signal(object)  # ActivityEvent

    # SyncStatusListener
    def status_changed(self, status: SyncStatus) -> None:
        self.status.emit(status)

    def appointment_changed(self, uuid: str) -> None:
        self.changed.emit(uuid)

    def everything_changed(self) -> None:
        self.all_changed.emit()

    def activity(self, event: ActivityEvent) -> None:
        self.activity_event.emit(event)
