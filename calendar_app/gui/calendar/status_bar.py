"""The status bar's sync part: connection state, pending count, last sync, "Sync now"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QLocale, QTime, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from calendar_app.gui.calendar.formatting import qdate
from calendar_app.services.sync_status import ConnectionState, SyncStatus

_STATE_DOT = {
    ConnectionState.ONLINE: "#1a7f37",
    ConnectionState.SYNCING: "#0b63ce",
    ConnectionState.OFFLINE: "#9a6700",
    ConnectionState.STOPPED: "#cf222e",
}
LOCAL_ONLY_TEXT = "Exchange integration is off: this is a local calendar."


class SyncStatusWidget(QWidget):
    sync_now = Signal()
    toggle_activity = Signal()

    def __init__(self, zone: ZoneInfo, now: Callable[[], datetime], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.zone = zone
        self.now = now
        self.dot = QLabel("●")
        self.connection_label = QLabel(LOCAL_ONLY_TEXT)
        self.connection_label.setObjectName("connection")
        self.pending_label = QLabel()
        self.last_sync_label = QLabel()
        for label in (self.pending_label, self.last_sync_label):
            label.setStyleSheet("color: #656d76;")
        self.sync_button = QPushButton("Sync now")
        self.sync_button.setToolTip("Send waiting changes and fetch news from Exchange now")
        self.sync_button.clicked.connect(self.sync_now)
        self.activity_button = QPushButton("Activity")
        self.activity_button.setCheckable(True)
        self.activity_button.setToolTip("Show recent sync events and errors")
        self.activity_button.clicked.connect(self.toggle_activity)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.setSpacing(10)
        layout.addWidget(self.dot)
        layout.addWidget(self.connection_label)
        layout.addWidget(self.pending_label)
        layout.addWidget(self.last_sync_label)
        layout.addStretch(1)
        layout.addWidget(self.activity_button)
        layout.addWidget(self.sync_button)

    def show_local_only(self, text: str = LOCAL_ONLY_TEXT) -> None:
        self.dot.setStyleSheet("color: #8c959f;")
        self.connection_label.setText(text)
        self.pending_label.hide()
        self.last_sync_label.hide()
        self.sync_button.setEnabled(False)
        self.sync_button.setToolTip("Exchange integration is off")

    def show_status(self, status: SyncStatus) -> None:
        self.dot.setStyleSheet(f"color: {_STATE_DOT.get(status.state, '#8c959f')};")
        self.connection_label.setText(status.text)
        self.show_pending(status.pending_count)
        self.last_sync_label.setText(f"Last sync: {last_sync_text(status.last_sync, self.zone, self.now())}")
        self.last_sync_label.show()
        self.sync_button.setEnabled(status.state != ConnectionState.SYNCING)

    def show_pending(self, count: int) -> None:
        self.pending_label.setText("All changes sent" if count == 0 else
                                   f"{count} change{'s' if count != 1 else ''} waiting to be sent")
        self.pending_label.show()


def last_sync_text(moment: datetime | None, zone: ZoneInfo, now: datetime) -> str:
    if moment is None:
        return "never"
    local = moment.astimezone(zone)
    locale = QLocale()
    time_part = locale.toString(QTime(local.hour, local.minute), QLocale.FormatType.ShortFormat)
    if local.date() == now.astimezone(zone).date():
        return f"today {time_part}"
    return f"{locale.toString(qdate(local.date()), QLocale.FormatType.ShortFormat)} {time_part}"
