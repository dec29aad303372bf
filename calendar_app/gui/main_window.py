"""The main window: for now an agenda of the local calendar and the connection state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QHeaderView, QLabel, QMainWindow, QTableView, QVBoxLayout, QWidget

from calendar_app.store import AppointmentRepository, StoredAppointment
from calendar_app.store.settings_file import Settings

_STATE_LABELS = {"synced": "✓ synced", "pending": "… pending", "failed": "⚠ failed", "conflict": "⚡ conflict"}


class AgendaModel(QAbstractTableModel):
    HEADERS = ("When", "Subject", "Location", "Sync")

    def __init__(self, rows: list[StoredAppointment]) -> None:
        super().__init__()
        self._rows = rows

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        stored = self._rows[index.row()]
        a = stored.appointment
        if index.column() == 0:
            if a.is_all_day:
                return f"{a.start:%a %d %b %Y} (all day)"
            return f"{a.start:%a %d %b %Y %H:%M}–{a.end:%H:%M} {a.timezone}"
        if index.column() == 1:
            return a.subject
        if index.column() == 2:
            return a.location
        return _STATE_LABELS.get(stored.sync_state, stored.sync_state)


class MainWindow(QMainWindow):
    def __init__(self, appointments: AppointmentRepository, settings: Settings,
                 notices: list[str] | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Calendar")
        self.resize(960, 640)
        self._appointments = appointments
        central = QWidget(self)
        layout = QVBoxLayout(central)
        for notice in notices or []:
            label = QLabel(notice, central)
            label.setWordWrap(True)
            label.setObjectName("notice")
            label.setStyleSheet("background: #fff4ce; padding: 6px; border-radius: 4px;")
            layout.addWidget(label)
        self.agenda = QTableView(central)
        self.agenda.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.agenda.verticalHeader().hide()
        layout.addWidget(self.agenda)
        self.setCentralWidget(central)
        self.connection_label = QLabel(self._connection_text(settings))
        self.statusBar().addPermanentWidget(self.connection_label)
        self.reload()

    def reload(self) -> None:
        now = datetime.now(UTC)
        rows = self._appointments.between(now - timedelta(days=7), now + timedelta(days=60))
        self.agenda.setModel(AgendaModel(rows))

    @staticmethod
    def _connection_text(settings: Settings) -> str:
        if not settings.integration_enabled:
            return "Exchange integration is off: this is a local calendar."
        return f"Exchange: {settings.ews_url} ({settings.mailbox})"
