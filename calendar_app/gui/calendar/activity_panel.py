"""Recent sync events and errors, newest first, each with its explanation."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from PySide6.QtCore import QLocale, Qt, QTime, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from calendar_app.services.sync_status import ActivityEvent, ActivityLevel

MAX_EVENTS = 500
_LEVEL_STYLE = {
    ActivityLevel.INFO: ("#1f2328", "•"),
    ActivityLevel.WARNING: ("#9a6700", "▲"),
    ActivityLevel.ERROR: ("#cf222e", "✕"),
}


class ActivityPanel(QWidget):
    appointment_activated = Signal(str)

    def __init__(self, zone: ZoneInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.zone = zone
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.list.itemActivated.connect(self._activated)
        self.empty = QLabel("No sync activity yet.")
        self.empty.setStyleSheet("color: #656d76; padding: 8px;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.empty)
        layout.addWidget(self.list, 1)
        self.events: list[ActivityEvent] = []

    def add(self, event: ActivityEvent) -> None:
        self.events.insert(0, event)
        del self.events[MAX_EVENTS:]
        colour, mark = _LEVEL_STYLE.get(event.level, ("#1f2328", "•"))
        local = event.when.astimezone(self.zone)
        stamp = QLocale().toString(QTime(local.hour, local.minute, local.second), QLocale.FormatType.ShortFormat)
        text = f"{mark}  {stamp}  {event.message}"
        if event.explanation:
            text += f"\n      {event.explanation}"
        item = QListWidgetItem(text)
        item.setForeground(QColor(colour))
        item.setToolTip(event.explanation or event.message)
        item.setData(Qt.ItemDataRole.UserRole, event.uuid or "")
        self.list.insertItem(0, item)
        while self.list.count() > MAX_EVENTS:
            self.list.takeItem(self.list.count() - 1)
        self.empty.hide()

    def _activated(self, item: QListWidgetItem) -> None:
        uuid = item.data(Qt.ItemDataRole.UserRole)
        if uuid:
            self.appointment_activated.emit(uuid)
