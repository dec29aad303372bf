"""The appointments of the visible range, shared by every view.

Switching the range resets the model (one indexed SQLite read). Anything else — a save here, a
change pulled from Exchange, a new sync state — updates just that row: inserted, changed, moved
or removed by uuid, so views keep their scroll position and selection.
"""

from __future__ import annotations

import bisect
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QAbstractTableModel, QLocale, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from calendar_app.gui.calendar.formatting import when_text
from calendar_app.gui.calendar.palette import BADGE_STYLE, badge_tooltip
from calendar_app.services.calendar_service import CalendarService
from calendar_app.store import StoredAppointment

STORED_ROLE = Qt.ItemDataRole.UserRole + 1
UUID_ROLE = Qt.ItemDataRole.UserRole + 2

_STATE_LABELS = {"synced": "✓ synced", "pending": "↑ pending", "failed": "! failed", "conflict": "⇄ conflict"}

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _key(stored: StoredAppointment) -> tuple[float, str]:
    return ((stored.appointment.start - _EPOCH).total_seconds(), stored.appointment.uuid)


class AppointmentRangeModel(QAbstractTableModel):
    HEADERS = ("When", "Subject", "Location", "Sync")

    def __init__(self, service: CalendarService, zone: ZoneInfo, *, sync_enabled: bool) -> None:
        super().__init__()
        self._service = service
        self.zone = zone
        self.sync_enabled = sync_enabled
        self._rows: list[StoredAppointment] = []
        self._keys: list[tuple[float, str]] = []
        self._hidden: set[str] = set()
        self.range_start = datetime.now(UTC)
        self.range_end = self.range_start
        self._locale = QLocale()

    # ------------------------------------------------------------------ range
    def set_range(self, start: datetime, end: datetime, rows: list[StoredAppointment] | None = None) -> None:
        """Show [start, end): `rows` if already read (prefetched), else read them now."""
        if rows is None:
            rows = self._service.list_range(start, end)
        self.beginResetModel()
        self.range_start, self.range_end = start, end
        hidden = self._hidden
        keyed = [(_key(s), s) for s in rows if not hidden or s.appointment.uuid not in hidden]
        # The store returns start order already; sorting the (key, row) pairs keeps that cheap and
        # computes each key once (a zone-aware subtraction per row is most of this method's time).
        keyed.sort(key=lambda pair: pair[0])
        self._rows = [pair[1] for pair in keyed]
        self._keys = [pair[0] for pair in keyed]
        self.endResetModel()

    def appointments(self) -> list[StoredAppointment]:
        return self._rows

    def row_of(self, uuid: str) -> int:
        for row, stored in enumerate(self._rows):
            if stored.appointment.uuid == uuid:
                return row
        return -1

    def stored(self, uuid: str) -> StoredAppointment | None:
        row = self.row_of(uuid)
        return self._rows[row] if row >= 0 else None

    # ------------------------------------------------------------------ incremental updates
    def refresh(self, uuid: str) -> None:
        """Re-read one appointment and insert, update, move or remove its row."""
        self.apply(uuid, self._service.get(uuid))

    def apply(self, uuid: str, stored: StoredAppointment | None) -> None:
        """Insert, update, move or remove one appointment's row, given its state just read
        from the store (None = cancelled or gone)."""
        if uuid in self._hidden:
            stored = None
        if stored is not None and not self._in_range(stored):
            stored = None
        row = self.row_of(uuid)
        if stored is None:
            if row >= 0:
                self._remove_row(row)
            return
        key = _key(stored)
        if row >= 0 and self._keys[row] == key:
            self._rows[row] = stored
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.HEADERS) - 1))
            return
        if row >= 0:
            self._remove_row(row)
        position = bisect.bisect_left(self._keys, key)
        self.beginInsertRows(QModelIndex(), position, position)
        self._rows.insert(position, stored)
        self._keys.insert(position, key)
        self.endInsertRows()

    def hide(self, uuid: str) -> None:
        """Take an appointment out of view without touching the store (the undo window)."""
        self._hidden.add(uuid)
        row = self.row_of(uuid)
        if row >= 0:
            self._remove_row(row)

    def unhide(self, uuid: str) -> None:
        self._hidden.discard(uuid)
        self.refresh(uuid)

    def _remove_row(self, row: int) -> None:
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._rows[row]
        del self._keys[row]
        self.endRemoveRows()

    def _in_range(self, stored: StoredAppointment) -> bool:
        a = stored.appointment
        return a.start < self.range_end and a.end > self.range_start

    # ------------------------------------------------------------------ Qt model API (the agenda table)
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        stored = self._rows[index.row()]
        if role == STORED_ROLE:
            return stored
        if role == UUID_ROLE:
            return stored.appointment.uuid
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 3:
            return badge_tooltip(stored.sync_state, stored.last_error, sync_enabled=self.sync_enabled)
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 3:
            return QColor(BADGE_STYLE.get(stored.sync_state, ("#656d76", ""))[0])
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        a = stored.appointment
        column = index.column()
        if column == 0:
            return self.when_text(stored)
        if column == 1:
            return a.subject
        if column == 2:
            return a.location
        if not self.sync_enabled:
            return "local"
        return _STATE_LABELS.get(stored.sync_state, stored.sync_state)

    def when_text(self, stored: StoredAppointment) -> str:
        return when_text(stored.appointment, self.zone, self._locale)
