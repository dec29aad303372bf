"""Day, working-week and week views: a time grid with an all-day row on top.

Everything is painted from the shared range model. Interactions: double-click or drag on an
empty slot to create, drag a block to move it (also to another day), drag its bottom edge to
resize, double-click to open. Moves snap to a quarter of an hour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QEvent, QLocale, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QHelpEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QShowEvent,
)
from PySide6.QtWidgets import QApplication, QFrame, QScrollArea, QSizePolicy, QToolTip, QVBoxLayout, QWidget

from calendar_app.domain import FreeBusy
from calendar_app.gui.calendar import palette
from calendar_app.gui.calendar.appointment_model import AppointmentRangeModel
from calendar_app.gui.calendar.day_layout import AllDayBar, TimedBlock, layout_all_day, layout_timed
from calendar_app.gui.calendar.formatting import time_text, when_text, zone_label
from calendar_app.store import StoredAppointment

HOUR_HEIGHT = 52
GUTTER = 64
SNAP_MINUTES = 15
RESIZE_EDGE = 6
DAY_NAME_HEIGHT = 46
ALL_DAY_LANE = 22
BADGE_RADIUS = 6.5
NO_BRUSH = QBrush()


@dataclass
class _Drag:
    mode: str  # "move" / "resize" / "create"
    press: QPointF
    uuid: str | None = None
    original_start: datetime | None = None
    original_end: datetime | None = None
    anchor: datetime | None = None
    active: bool = False
    ghost_start: datetime | None = None
    ghost_end: datetime | None = None


class TimeGridView(QWidget):
    create_requested = Signal(object, object, bool)  # start, end (aware), all-day
    open_requested = Signal(str)
    move_requested = Signal(str, object, object)  # uuid, new start, new end
    selection_changed = Signal(str)
    day_activated = Signal(object)  # a date: the rep clicked a day's name

    def __init__(self, model: AppointmentRangeModel, zone: ZoneInfo, now: Callable[[], datetime],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.zone = zone
        self.now = now
        self.locale = QLocale()
        self.days: list[date] = []
        self.selected_uuid = ""
        self.setAccessibleName("Day and week time grid")
        self._layout_cache: tuple[list[TimedBlock], list[AllDayBar]] | None = None
        self._header_stale = True

        self.header = _DayHeader(self)
        self.scroll = QScrollArea(self)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidgetResizable(True)
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.canvas = _TimeCanvas(self)
        self.scroll.setWidget(self.canvas)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self.scroll, 1)

        for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved, model.dataChanged):
            signal.connect(self._invalidate)
        self._minute_timer = QTimer(self)
        self._minute_timer.timeout.connect(self.canvas.update)
        self._minute_timer.start(60_000)

    # ------------------------------------------------------------------ state
    def set_days(self, days: list[date]) -> None:
        self.days = days
        self._invalidate()

    def set_selected(self, uuid: str) -> None:
        if uuid != self.selected_uuid:
            self.selected_uuid = uuid
            self.selection_changed.emit(uuid)
        self.canvas.update()
        self.header.update()

    def scroll_to_hour(self, hour: float) -> None:
        self.scroll.verticalScrollBar().setValue(int(hour * HOUR_HEIGHT))

    def layout_items(self) -> tuple[list[TimedBlock], list[AllDayBar]]:
        if self._layout_cache is None:
            items = self.model.appointments()
            self._layout_cache = (layout_timed(items, self.days, self.zone),
                                  layout_all_day(items, self.days, self.zone))
        return self._layout_cache

    def _invalidate(self, *_args: object) -> None:
        self._layout_cache = None
        if not self.isVisible():
            # The model is shared: while Month or Agenda is shown, laying out this hidden grid on
            # every range change cost a month jump about 15 ms. showEvent catches up.
            self._header_stale = True
            return
        self._header_stale = False
        self.header.update_height()
        self.header.update()
        self.canvas.update()

    def showEvent(self, event: QShowEvent) -> None:
        if self._header_stale:
            self._header_stale = False
            self.header.update_height()
        super().showEvent(event)

    # ------------------------------------------------------------------ geometry shared by header and grid
    def column_width(self) -> float:
        return max(1.0, (self.canvas.width() - GUTTER) / max(1, len(self.days)))

    def column_left(self, day_index: int) -> float:
        return GUTTER + day_index * self.column_width()

    def day_index_at(self, x: float) -> int:
        return max(0, min(len(self.days) - 1, int((x - GUTTER) // self.column_width())))

    def datetime_at(self, day_index: int, minute: float) -> datetime:
        minute = max(0.0, min(24 * 60.0, minute))
        return datetime.combine(self.days[day_index], time(0), self.zone) + timedelta(minutes=minute)

    def today(self) -> date:
        return self.now().astimezone(self.zone).date()

    def tooltip_for(self, stored: StoredAppointment, over_badge: bool) -> str:
        if over_badge:
            return palette.badge_tooltip(stored.sync_state, stored.last_error, sync_enabled=self.model.sync_enabled)
        a = stored.appointment
        lines = [a.subject, when_text(a, self.zone, self.locale)]
        if a.location:
            lines.append(a.location)
        if a.has_attendees:
            lines.append(f"{len(a.attendees)} attendee(s)")
        lines.append(palette.badge_tooltip(stored.sync_state, stored.last_error,
                                           sync_enabled=self.model.sync_enabled))
        return "\n".join(lines)

    def shows_badge(self, stored: StoredAppointment) -> bool:
        return self.model.sync_enabled or stored.sync_state in ("failed", "conflict")


class _TimeCanvas(QWidget):
    def __init__(self, view: TimeGridView) -> None:
        super().__init__()
        self.view = view
        self.setMinimumHeight(24 * HOUR_HEIGHT)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)
        self._hits: list[tuple[QRectF, TimedBlock]] = []
        self._drag: _Drag | None = None

    def sizeHint(self):
        hint = super().sizeHint()
        hint.setHeight(24 * HOUR_HEIGHT)
        return hint

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event: QPaintEvent) -> None:
        view = self.view
        exposed = QRectF(event.rect())
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.fillRect(self.rect(), palette.BACKGROUND)
        width = self.width()
        self._title_font = palette.ui_font(-1, bold=True)
        self._small_font = palette.ui_font(-1.5)
        self._title_metrics = QFontMetricsF(self._title_font)
        self._small_metrics = QFontMetricsF(self._small_font)
        today = view.today()
        for i, day in enumerate(view.days):
            left = view.column_left(i)
            column = QRectF(left, 0, view.column_width(), self.height())
            if day == today:
                painter.fillRect(column, palette.TODAY_BACKGROUND)
            elif day.weekday() >= 5:
                painter.fillRect(column, palette.WEEKEND_BACKGROUND)
        label_font = palette.ui_font(-1.5)
        painter.setFont(label_font)
        for hour in range(24):
            y = hour * HOUR_HEIGHT
            painter.setPen(QPen(palette.GRID_LINE, 1))
            painter.drawLine(QPointF(GUTTER - 6, y + 0.5), QPointF(width, y + 0.5))
            painter.setPen(QPen(palette.GRID_HALF_LINE, 1, Qt.PenStyle.DashLine))
            painter.drawLine(QPointF(GUTTER, y + HOUR_HEIGHT / 2 + 0.5), QPointF(width, y + HOUR_HEIGHT / 2 + 0.5))
            if hour:
                painter.setPen(palette.MUTED_TEXT)
                label = time_text(datetime.combine(date.today(), time(hour)), view.locale)
                painter.drawText(QRectF(0, y - 8, GUTTER - 10, 16),
                                 Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
        painter.setPen(QPen(palette.GRID_LINE, 1))
        for i in range(len(view.days) + 1):
            x = round(view.column_left(i)) + 0.5
            painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))

        self._hits = []
        timed, _ = view.layout_items()
        dragged = self._drag.uuid if self._drag and self._drag.active and self._drag.mode != "create" else None
        for block in timed:
            rect = self.block_rect(block)
            self._hits.append((rect, block))
            if not rect.intersects(exposed):
                continue  # scrolled out of sight: Qt only asks for the visible part
            faded = block.stored.appointment.uuid == dragged
            self._paint_block(painter, rect, block.stored, faded=faded)
        self._paint_drag_ghost(painter)
        self._paint_now_line(painter, today)
        painter.end()

    def block_rect(self, block: TimedBlock) -> QRectF:
        view = self.view
        column_width = view.column_width() - 8
        width = column_width / block.columns
        left = view.column_left(block.day_index) + 2 + block.column * width
        top = block.start_minute / 60 * HOUR_HEIGHT
        height = max(SNAP_MINUTES, block.end_minute - block.start_minute) / 60 * HOUR_HEIGHT
        return QRectF(left + 1, top + 1, width - 2, height - 2)

    def _paint_block(self, painter: QPainter, rect: QRectF, stored: StoredAppointment, *, faded: bool) -> None:
        view = self.view
        a = stored.appointment
        accent = palette.accent_for(a.categories)
        fill = palette.fill_for(accent)
        if a.free_busy == FreeBusy.FREE:
            fill = QColor("#ffffff")
        selected = a.uuid == view.selected_uuid
        if rect.width() < 30:
            # a sliver among many overlapping meetings: colour, outline and state only
            painter.fillRect(rect, fill)
            painter.fillRect(QRectF(rect.left(), rect.top(), 3, rect.height()), accent)
            if selected:
                painter.setPen(QPen(palette.SELECTION, 2))
                painter.setBrush(NO_BRUSH)
                painter.drawRect(rect)
            # in a sliver only what needs attention gets a badge
            if view.shows_badge(stored) and stored.sync_state != "synced" and rect.width() >= 8:
                radius = min(rect.width() / 2 - 1, BADGE_RADIUS, rect.height() / 2 - 1)
                palette.paint_badge(painter, QPointF(rect.center().x() + 1, rect.top() + radius + 2), radius,
                                    stored.sync_state)
            return
        painter.save()
        if faded:
            painter.setOpacity(0.35)
        path = palette.rounded(rect, 4)
        painter.fillPath(path, fill)
        if a.free_busy == FreeBusy.TENTATIVE:
            hatch = QColor(accent)
            hatch.setAlpha(45)
            painter.fillPath(path, QBrush(hatch, Qt.BrushStyle.BDiagPattern))
        border = QColor(palette.SELECTION if selected else accent)
        if not selected:
            border.setAlpha(90)
        painter.setPen(QPen(border, 2 if selected else 1))
        painter.setBrush(NO_BRUSH)
        painter.drawPath(path)
        painter.setClipPath(path)
        painter.fillRect(QRectF(rect.left(), rect.top(), 4, rect.height()), accent)
        text_rect = rect.adjusted(8, 2, -4, -2)
        badge_room = 2 * BADGE_RADIUS + 4 if view.shows_badge(stored) else 0
        title_font = self._title_font
        small_font = self._small_font
        title_metrics = self._title_metrics
        line = title_metrics.height()
        painter.setPen(palette.TEXT)
        painter.setFont(title_font)
        start = a.start.astimezone(view.zone)
        end = a.end.astimezone(view.zone)
        times = f"{time_text(start, view.locale)}–{time_text(end, view.locale)}"
        compact = rect.height() < 2 * line + 4
        title = a.subject
        if compact:
            title_line = f"{title}  {times}"
            if rect.height() < line + 2:
                # a quarter-hour block: shrink the text to the block rather than clip it
                title_font = QFont(title_font)
                title_font.setPixelSize(max(7, int(rect.height() - 3)))
                painter.setFont(title_font)
                title_metrics = QFontMetricsF(title_font)
                line = rect.height() - 2
                text_rect = rect.adjusted(8, 0, -4, 0)
            painter.drawText(QRectF(text_rect.left(), rect.top() + (rect.height() - line) / 2,
                                    text_rect.width() - badge_room, line),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             title_metrics.elidedText(title_line, Qt.TextElideMode.ElideRight,
                                                      text_rect.width() - badge_room))
        else:
            painter.drawText(QRectF(text_rect.left(), text_rect.top(), text_rect.width() - badge_room, line),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             title_metrics.elidedText(title, Qt.TextElideMode.ElideRight,
                                                      text_rect.width() - badge_room))
            painter.setFont(small_font)
            small_metrics = self._small_metrics
            y = text_rect.top() + line
            details = [times]
            if a.location:
                details.append(a.location)
            if a.is_private:
                details.append("Private")
            painter.setPen(palette.MUTED_TEXT)
            for detail in details:
                if y + small_metrics.height() > text_rect.bottom() + 1:
                    break
                painter.drawText(QRectF(text_rect.left(), y, text_rect.width(), small_metrics.height()),
                                 Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                                 small_metrics.elidedText(detail, Qt.TextElideMode.ElideRight, text_rect.width()))
                y += small_metrics.height()
        painter.restore()
        if view.shows_badge(stored):
            radius = min(BADGE_RADIUS, rect.height() / 2 - 1)
            palette.paint_badge(painter, self.badge_centre(rect), radius, stored.sync_state)

    @staticmethod
    def badge_centre(rect: QRectF) -> QPointF:
        radius = min(BADGE_RADIUS, rect.height() / 2 - 1)
        return QPointF(rect.right() - radius - 3, rect.top() + min(radius + 3, rect.height() / 2))

    def _paint_drag_ghost(self, painter: QPainter) -> None:
        drag = self._drag
        if not drag or not drag.active or drag.ghost_start is None or drag.ghost_end is None:
            return
        view = self.view
        start = drag.ghost_start.astimezone(view.zone)
        end = drag.ghost_end.astimezone(view.zone)
        if start.date() not in view.days:
            return
        index = view.days.index(start.date())
        midnight = datetime.combine(start.date(), time(0), view.zone)
        top = (start - midnight).total_seconds() / 3600 * HOUR_HEIGHT
        bottom = min(24 * HOUR_HEIGHT, (end - midnight).total_seconds() / 3600 * HOUR_HEIGHT)
        rect = QRectF(view.column_left(index) + 3, top + 1, view.column_width() - 10, max(8.0, bottom - top - 2))
        colour = QColor(palette.SELECTION)
        colour.setAlpha(40)
        painter.fillPath(palette.rounded(rect, 4), colour)
        painter.setPen(QPen(palette.SELECTION, 1.5, Qt.PenStyle.DashLine))
        painter.setBrush(NO_BRUSH)
        painter.drawPath(palette.rounded(rect, 4))
        painter.setFont(palette.ui_font(-1, bold=True))
        painter.setPen(palette.SELECTION)
        painter.drawText(rect.adjusted(8, 2, -4, -2), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                         f"{time_text(start, view.locale)}–{time_text(end, view.locale)}")

    def _paint_now_line(self, painter: QPainter, today: date) -> None:
        view = self.view
        if today not in view.days:
            return
        now = view.now().astimezone(view.zone)
        y = (now.hour * 60 + now.minute) / 60 * HOUR_HEIGHT
        index = view.days.index(today)
        left = view.column_left(index)
        painter.setPen(QPen(palette.NOW_LINE, 2))
        painter.drawLine(QPointF(left, y), QPointF(left + view.column_width(), y))
        painter.setBrush(palette.NOW_LINE)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(QPointF(left, y), 4.5, 4.5)

    # ------------------------------------------------------------------ hit testing
    def hit(self, point: QPointF) -> tuple[QRectF, TimedBlock] | None:
        if not self._hits:
            self.repaint_hits()
        for rect, block in reversed(self._hits):
            if rect.contains(point):
                return rect, block
        return None

    def repaint_hits(self) -> None:
        timed, _ = self.view.layout_items()
        self._hits = [(self.block_rect(b), b) for b in timed]

    def _minute_at(self, y: float) -> float:
        return y / HOUR_HEIGHT * 60

    @staticmethod
    def _snap(minute: float) -> float:
        return round(minute / SNAP_MINUTES) * SNAP_MINUTES

    # ------------------------------------------------------------------ mouse
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not self.view.days:
            return
        self.repaint_hits()
        pos = event.position()
        found = self.hit(pos)
        if found:
            rect, block = found
            a = block.stored.appointment
            self.view.set_selected(a.uuid)
            mode = "resize" if pos.y() >= rect.bottom() - RESIZE_EDGE else "move"
            self._drag = _Drag(mode, pos, a.uuid, a.start, a.end)
        else:
            day_index = self.view.day_index_at(pos.x())
            minute = (self._minute_at(pos.y()) // SNAP_MINUTES) * SNAP_MINUTES
            self._drag = _Drag("create", pos, anchor=self.view.datetime_at(day_index, minute))
            self.view.set_selected("")
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        drag = self._drag
        pos = event.position()
        if drag is None:
            found = self.hit(pos)
            cursor = Qt.CursorShape.ArrowCursor
            if found:
                cursor = (Qt.CursorShape.SizeVerCursor if pos.y() >= found[0].bottom() - RESIZE_EDGE
                          else Qt.CursorShape.OpenHandCursor)
            self.setCursor(cursor)
            return
        if not drag.active and (pos - drag.press).manhattanLength() < QApplication.startDragDistance():
            return
        drag.active = True
        view = self.view
        if drag.mode == "move" and drag.original_start and drag.original_end:
            original = drag.original_start.astimezone(view.zone)
            minutes_then = original.hour * 60 + original.minute
            delta_minutes = self._minute_at(pos.y() - drag.press.y())
            day_shift = view.day_index_at(pos.x()) - view.day_index_at(drag.press.x())
            new_minute = self._snap(minutes_then + delta_minutes)
            day = original.date() + timedelta(days=day_shift)
            start = datetime.combine(day, time(0), view.zone) + timedelta(minutes=new_minute)
            drag.ghost_start, drag.ghost_end = start, start + (drag.original_end - drag.original_start)
        elif drag.mode == "resize" and drag.original_start and drag.original_end:
            start = drag.original_start.astimezone(view.zone)
            end_day = drag.original_end.astimezone(view.zone)
            minimum = start + timedelta(minutes=SNAP_MINUTES)
            midnight = datetime.combine(end_day.date() if end_day.time() != time(0) else start.date(),
                                        time(0), view.zone)
            end = midnight + timedelta(minutes=self._snap(self._minute_at(pos.y())))
            drag.ghost_start, drag.ghost_end = drag.original_start, max(minimum, end)
        elif drag.mode == "create" and drag.anchor:
            anchor = drag.anchor
            midnight = datetime.combine(anchor.date(), time(0), view.zone)
            current = midnight + timedelta(minutes=self._snap(self._minute_at(pos.y())))
            if current >= anchor:
                drag.ghost_start, drag.ghost_end = anchor, max(current, anchor + timedelta(minutes=SNAP_MINUTES))
            else:
                drag.ghost_start, drag.ghost_end = current, anchor + timedelta(minutes=SNAP_MINUTES)
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        drag, self._drag = self._drag, None
        if drag is None or event.button() != Qt.MouseButton.LeftButton:
            return
        self.update()
        if not drag.active or drag.ghost_start is None or drag.ghost_end is None:
            return
        if drag.mode in ("move", "resize") and drag.uuid:
            if (drag.ghost_start, drag.ghost_end) != (drag.original_start, drag.original_end):
                self.view.move_requested.emit(drag.uuid, drag.ghost_start, drag.ghost_end)
        elif drag.mode == "create":
            self.view.create_requested.emit(drag.ghost_start, drag.ghost_end, False)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not self.view.days:
            return
        self._drag = None
        pos = event.position()
        found = self.hit(pos)
        if found:
            self.view.open_requested.emit(found[1].stored.appointment.uuid)
            return
        day_index = self.view.day_index_at(pos.x())
        minute = (self._minute_at(pos.y()) // 30) * 30
        start = self.view.datetime_at(day_index, minute)
        self.view.create_requested.emit(start, start + timedelta(minutes=30), False)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            found = self.hit(QPointF(event.pos()))
            if found:
                rect, block = found
                over_badge = (QPointF(event.pos()) - self.badge_centre(rect)).manhattanLength() <= 2 * BADGE_RADIUS
                QToolTip.showText(event.globalPos(), self.view.tooltip_for(block.stored, over_badge), self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)


class _DayHeader(QWidget):
    """Day names (today highlighted) and the all-day row; the corner shows the time zone."""

    def __init__(self, view: TimeGridView) -> None:
        super().__init__(view)
        self.view = view
        self._bars: list[tuple[QRectF, AllDayBar]] = []
        self.setMouseTracking(True)
        self.update_height()

    def lanes(self) -> int:
        _, bars = self.view.layout_items() if self.view.days else ([], [])
        return max([b.lane + 1 for b in bars], default=0)

    def update_height(self) -> None:
        self.setFixedHeight(DAY_NAME_HEIGHT + max(1, self.lanes()) * ALL_DAY_LANE + 8)

    def paintEvent(self, _event: QPaintEvent) -> None:
        view = self.view
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.fillRect(self.rect(), palette.BACKGROUND)
        today = view.today()
        name_font = palette.ui_font(-1)
        number_font = palette.ui_font(4)
        for i, day in enumerate(view.days):
            left = view.column_left(i)
            width = view.column_width()
            is_today = day == today
            painter.setFont(name_font)
            painter.setPen(palette.TODAY_ACCENT if is_today else palette.MUTED_TEXT)
            name = view.locale.dayName(day.isoweekday(), QLocale.FormatType.ShortFormat)
            painter.drawText(QRectF(left + 8, 4, width - 8, 16), Qt.AlignmentFlag.AlignLeft, name)
            painter.setFont(number_font)
            number_rect = QRectF(left + 4, 20, 30, 24)
            if is_today:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(palette.TODAY_ACCENT)
                painter.drawEllipse(number_rect.center(), 13, 13)
                painter.setPen(QColor("#ffffff"))
            else:
                painter.setPen(palette.TEXT)
            painter.drawText(number_rect, Qt.AlignmentFlag.AlignCenter, str(day.day))
        painter.setPen(QPen(palette.GRID_LINE, 1))
        for i in range(len(view.days) + 1):
            x = round(view.column_left(i)) + 0.5
            painter.drawLine(QPointF(x, DAY_NAME_HEIGHT - 6), QPointF(x, self.height()))
        painter.drawLine(QPointF(0, self.height() - 0.5), QPointF(self.width(), self.height() - 0.5))
        # the time zone the grid is drawn in
        painter.setFont(palette.ui_font(-2.5, bold=True))
        painter.setPen(palette.MUTED_TEXT)
        moment = view.now()
        painter.drawText(QRectF(2, 6, GUTTER - 6, 14), Qt.AlignmentFlag.AlignCenter, zone_label(view.zone, moment))
        painter.setFont(palette.ui_font(-3))
        city = view.zone.key.split("/")[-1].replace("_", " ")
        painter.drawText(QRectF(2, 20, GUTTER - 6, 14), Qt.AlignmentFlag.AlignCenter,
                         QFontMetricsF(painter.font()).elidedText(city, Qt.TextElideMode.ElideRight, GUTTER - 8))
        painter.drawText(QRectF(2, DAY_NAME_HEIGHT, GUTTER - 10, ALL_DAY_LANE),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, "all day")
        self._paint_bars(painter)
        painter.end()

    def _paint_bars(self, painter: QPainter) -> None:
        view = self.view
        _, bars = view.layout_items() if view.days else ([], [])
        self._bars = []
        font = palette.ui_font(-1, bold=True)
        metrics = QFontMetricsF(font)
        for bar in bars:
            left = view.column_left(bar.first_day) + 3
            right = view.column_left(bar.last_day + 1) - 3
            rect = QRectF(left, DAY_NAME_HEIGHT + bar.lane * ALL_DAY_LANE + 1, right - left, ALL_DAY_LANE - 3)
            self._bars.append((rect, bar))
            stored = bar.stored
            accent = palette.accent_for(stored.appointment.categories)
            path = palette.rounded(rect, 4)
            selected = stored.appointment.uuid == view.selected_uuid
            painter.fillPath(path, accent)
            if selected:
                painter.setPen(QPen(QColor("#0a3069"), 2))
                painter.setBrush(NO_BRUSH)
                painter.drawPath(path)
            painter.setFont(font)
            painter.setPen(QColor("#ffffff"))
            room = rect.width() - 12 - (2 * BADGE_RADIUS + 4 if view.shows_badge(stored) else 0)
            painter.drawText(rect.adjusted(6, 0, 0, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             metrics.elidedText(stored.appointment.subject, Qt.TextElideMode.ElideRight, room))
            if view.shows_badge(stored):
                palette.paint_badge(painter, QPointF(rect.right() - BADGE_RADIUS - 3, rect.center().y()),
                                    BADGE_RADIUS, stored.sync_state)

    def _bar_at(self, point: QPointF) -> AllDayBar | None:
        for rect, bar in self._bars:
            if rect.contains(point):
                return bar
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        bar = self._bar_at(pos)
        if bar is not None:
            self.view.set_selected(bar.stored.appointment.uuid)
        elif pos.y() < DAY_NAME_HEIGHT and pos.x() > GUTTER and self.view.days:
            self.view.day_activated.emit(self.view.days[self.view.day_index_at(pos.x())])

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        bar = self._bar_at(pos)
        if bar is not None:
            self.view.open_requested.emit(bar.stored.appointment.uuid)
        elif pos.y() >= DAY_NAME_HEIGHT and pos.x() > GUTTER and self.view.days:
            day = self.view.days[self.view.day_index_at(pos.x())]
            start = datetime.combine(day, time(0), self.view.zone)
            self.view.create_requested.emit(start, start + timedelta(days=1), True)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            bar = self._bar_at(QPointF(event.pos()))
            if bar is not None:
                QToolTip.showText(event.globalPos(), self.view.tooltip_for(bar.stored, False), self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)
