"""The month: six weeks of days, each listing its appointments (all-day first) as far as they
fit, then "+N more". The week starts on the locale's first day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QEvent, QLocale, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFontMetricsF, QHelpEvent, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QToolTip, QWidget

from calendar_app.gui.calendar import palette
from calendar_app.gui.calendar.appointment_model import AppointmentRangeModel
from calendar_app.gui.calendar.day_layout import is_all_day_like, wall_dates
from calendar_app.gui.calendar.formatting import qdate, time_text, when_text
from calendar_app.store import StoredAppointment

HEADER_HEIGHT = 28
LINE_HEIGHT = 19


class MonthView(QWidget):
    create_requested = Signal(object, object, bool)
    open_requested = Signal(str)
    selection_changed = Signal(str)
    day_activated = Signal(object)

    def __init__(self, model: AppointmentRangeModel, zone: ZoneInfo, now: Callable[[], datetime],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.zone = zone
        self.now = now
        self.locale = QLocale()
        self.month = date.today().replace(day=1)
        self.days: list[date] = []
        self.selected_uuid = ""
        self.setAccessibleName("Month")
        self._by_day: dict[date, list[StoredAppointment]] | None = None
        self._hits: list[tuple[QRectF, str]] = []
        self._more: list[tuple[QRectF, date]] = []
        self.setMouseTracking(True)
        for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved, model.dataChanged):
            signal.connect(self._invalidate)

    def set_month(self, month: date, days: list[date]) -> None:
        self.month = month
        self.days = days
        self._invalidate()

    def set_selected(self, uuid: str) -> None:
        if uuid != self.selected_uuid:
            self.selected_uuid = uuid
            self.selection_changed.emit(uuid)
        self.update()

    def _invalidate(self, *_args: object) -> None:
        self._by_day = None
        self.update()

    def by_day(self) -> dict[date, list[StoredAppointment]]:
        if self._by_day is None:
            grouped: dict[date, list[StoredAppointment]] = {d: [] for d in self.days}
            for stored in self.model.appointments():
                first, last = wall_dates(stored, self.zone)
                day = max(first, self.days[0]) if self.days else first
                while self.days and day <= min(last, self.days[-1]):
                    grouped[day].append(stored)
                    day += timedelta(days=1)
            for items in grouped.values():
                items.sort(key=lambda s: (not is_all_day_like(s), s.appointment.start.astimezone(self.zone).time()
                                          if not s.appointment.is_all_day else time(0), s.appointment.subject))
            self._by_day = grouped
        return self._by_day

    def cell_rect(self, index: int) -> QRectF:
        width = self.width() / 7
        height = (self.height() - HEADER_HEIGHT) / 6
        return QRectF((index % 7) * width, HEADER_HEIGHT + (index // 7) * height, width, height)

    def day_at(self, point: QPointF) -> date | None:
        if point.y() < HEADER_HEIGHT or not self.days:
            return None
        column = min(6, int(point.x() / (self.width() / 7)))
        row = min(5, int((point.y() - HEADER_HEIGHT) / ((self.height() - HEADER_HEIGHT) / 6)))
        return self.days[row * 7 + column]

    # ------------------------------------------------------------------ painting
    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.fillRect(self.rect(), palette.BACKGROUND)
        self._hits, self._more = [], []
        if not self.days:
            painter.end()
            return
        today = self.now().astimezone(self.zone).date()
        painter.setFont(palette.ui_font(-1, bold=True))
        painter.setPen(palette.MUTED_TEXT)
        width = self.width() / 7
        for column in range(7):
            name = self.locale.dayName(self.days[column].isoweekday(), QLocale.FormatType.ShortFormat)
            painter.drawText(QRectF(column * width + 8, 0, width - 8, HEADER_HEIGHT),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)
        grouped = self.by_day()
        for index, day in enumerate(self.days):
            self._paint_cell(painter, self.cell_rect(index), day, grouped.get(day, []), today)
        painter.setPen(QPen(palette.GRID_LINE, 1))
        for row in range(7):
            y = round(HEADER_HEIGHT + row * (self.height() - HEADER_HEIGHT) / 6) + 0.5
            painter.drawLine(QPointF(0, y), QPointF(self.width(), y))
        for column in range(1, 7):
            x = round(column * width) + 0.5
            painter.drawLine(QPointF(x, HEADER_HEIGHT), QPointF(x, self.height()))
        painter.end()

    def _paint_cell(self, painter: QPainter, rect: QRectF, day: date, items: list[StoredAppointment],
                    today: date) -> None:
        in_month = day.month == self.month.month
        if day == today:
            painter.fillRect(rect, palette.TODAY_BACKGROUND)
        elif not in_month or day.weekday() >= 5:
            painter.fillRect(rect, palette.WEEKEND_BACKGROUND)
        number_font = palette.ui_font(0, bold=day == today)
        painter.setFont(number_font)
        label = str(day.day) if day.day != 1 else self.locale.toString(qdate(day), "d MMM")
        number_rect = QRectF(rect.left() + 6, rect.top() + 4, rect.width() - 12, 20)
        if day == today:
            metrics = QFontMetricsF(number_font)
            pill = QRectF(number_rect.left() - 3, number_rect.top(), metrics.horizontalAdvance(label) + 12, 20)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.TODAY_ACCENT)
            painter.drawRoundedRect(pill, 10, 10)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, label)
        else:
            painter.setPen(palette.TEXT if in_month else palette.OUTSIDE_MONTH_TEXT)
            painter.drawText(number_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label)
        top = rect.top() + 26
        room = int((rect.bottom() - top - 2) // LINE_HEIGHT)
        shown = items if len(items) <= room else items[: max(0, room - 1)]
        font = palette.ui_font(-1.5)
        bold = palette.ui_font(-1.5, bold=True)
        metrics = QFontMetricsF(font)
        bold_metrics = QFontMetricsF(bold)
        for stored in shown:
            a = stored.appointment
            line = QRectF(rect.left() + 3, top, rect.width() - 6, LINE_HEIGHT - 2)
            self._hits.append((line, a.uuid))
            accent = palette.accent_for(a.categories)
            selected = a.uuid == self.selected_uuid
            badge = self.model.sync_enabled or stored.sync_state in ("failed", "conflict")
            text_room = line.width() - 10 - (14 if badge else 0)
            if is_all_day_like(stored):
                painter.fillPath(palette.rounded(line, 3), accent)
                painter.setPen(QColor("#ffffff"))
                painter.setFont(bold)
                painter.drawText(line.adjusted(5, 0, 0, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                                 bold_metrics.elidedText(a.subject, Qt.TextElideMode.ElideRight, text_room))
            else:
                if selected:
                    painter.fillPath(palette.rounded(line, 3), palette.fill_for(accent))
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(accent)
                painter.drawEllipse(QPointF(line.left() + 5, line.center().y()), 3, 3)
                painter.setFont(font)
                painter.setPen(palette.MUTED_TEXT)
                start = time_text(a.start.astimezone(self.zone), self.locale)
                start_width = metrics.horizontalAdvance(start) + 6
                painter.drawText(line.adjusted(12, 0, 0, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                                 start)
                painter.setPen(palette.TEXT)
                painter.drawText(line.adjusted(12 + start_width, 0, 0, 0),
                                 Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                                 metrics.elidedText(a.subject, Qt.TextElideMode.ElideRight, text_room - start_width))
            if selected:
                painter.setPen(QPen(palette.SELECTION, 1.5))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawPath(palette.rounded(line, 3))
            if badge:
                palette.paint_badge(painter, QPointF(line.right() - 7, line.center().y()), 5.5, stored.sync_state)
            top += LINE_HEIGHT
        hidden = len(items) - len(shown)
        if hidden > 0:
            more = QRectF(rect.left() + 6, top, rect.width() - 12, LINE_HEIGHT - 2)
            self._more.append((more, day))
            painter.setFont(palette.ui_font(-1.5, bold=True))
            painter.setPen(palette.TODAY_ACCENT)
            painter.drawText(more, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, f"+{hidden} more")

    # ------------------------------------------------------------------ mouse
    def _uuid_at(self, point: QPointF) -> str | None:
        for rect, uuid in self._hits:
            if rect.contains(point):
                return uuid
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        pos = event.position()
        for rect, day in self._more:
            if rect.contains(pos):
                self.day_activated.emit(day)
                return
        uuid = self._uuid_at(pos)
        self.set_selected(uuid or "")

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        uuid = self._uuid_at(pos)
        if uuid:
            self.open_requested.emit(uuid)
            return
        day = self.day_at(pos)
        if day is not None:
            start = datetime.combine(day, time(9), self.zone)
            self.create_requested.emit(start, start + timedelta(minutes=30), False)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            uuid = self._uuid_at(QPointF(event.pos()))
            stored = self.model.stored(uuid) if uuid else None
            if stored is not None:
                a = stored.appointment
                text = "\n".join(x for x in (
                    a.subject, when_text(a, self.zone, self.locale), a.location,
                    palette.badge_tooltip(stored.sync_state, stored.last_error,
                                          sync_enabled=self.model.sync_enabled)) if x)
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)
