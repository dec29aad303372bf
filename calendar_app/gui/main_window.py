"""The rep's calendar window: navigator and views, editor, cancel with undo, sync state,
conflicts, activity, iCalendar import/export.

Everything here runs on the GUI thread and only reads one visible range from SQLite at a time;
sync news arrives through `SyncStatusSource` and updates single rows.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from PySide6.QtCore import QLocale, Qt, QTimer, QTimeZone
from PySide6.QtGui import QAction, QKeySequence, QTextCharFormat
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCalendarWidget,
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QSizePolicy,
    QStackedWidget,
    QTableView,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from calendar_app.domain import Appointment, ValidationError
from calendar_app.gui.calendar import palette
from calendar_app.gui.calendar.activity_panel import ActivityPanel
from calendar_app.gui.calendar.appointment_model import UUID_ROLE, AppointmentRangeModel
from calendar_app.gui.calendar.formatting import pydate, qdate
from calendar_app.gui.calendar.navigation import ViewMode, step, title, visible_days
from calendar_app.gui.calendar.range_loader import RangeLoader
from calendar_app.gui.calendar.status_bar import LOCAL_ONLY_TEXT, SyncStatusWidget
from calendar_app.gui.calendar.sync_bridge import SyncBridge
from calendar_app.gui.calendar.time_grid_view import TimeGridView
from calendar_app.gui.calendar.undo_bar import UndoBar
from calendar_app.services.calendar_service import CalendarService
from calendar_app.services.sync_status import ActivityEvent, ActivityLevel, SyncStatus, SyncStatusSource
from calendar_app.store import StoreError
from calendar_app.store.settings_file import Settings

if TYPE_CHECKING:
    # The dialogs load when first opened, not on the way to the first paint.
    from calendar_app.gui.calendar.cancel_flow import CancelConfirmation
    from calendar_app.gui.calendar.conflict_dialog import ConflictDialog
    from calendar_app.gui.calendar.editor_dialog import AppointmentEditor
    from calendar_app.gui.calendar.month_view import MonthView

PREFETCH_DELAY_MS = 60
FIRST_PAINT_FALLBACK_MS = 1000
OFFLINE_TEXT = "Offline: Exchange sync is not running. Your changes are kept here and sent when it runs."
WINDOW_STYLE = """
QMainWindow, #centralArea { background: #f6f8fa; }
QToolBar#navigation { background: #ffffff; border: none; border-bottom: 1px solid #e6e8eb; padding: 6px 10px;
                      spacing: 6px; }
QToolBar#navigation QToolButton { padding: 5px 10px; border: 1px solid #d0d7de; border-radius: 6px;
                                  background: #ffffff; color: #1f2328; }
QToolBar#navigation QToolButton:hover { background: #f3f4f6; }
QToolBar#navigation QToolButton:checked { background: #0b63ce; border-color: #0b63ce; color: #ffffff; }
QToolButton#newButton { background: #0b63ce; color: #ffffff; border-color: #0b63ce; font-weight: bold; }
QLabel#periodTitle { font-size: 16pt; font-weight: 600; color: #1f2328; padding-left: 10px; }
#sidePanel { background: #ffffff; border-right: 1px solid #e6e8eb; }
#viewFrame { background: #ffffff; border: 1px solid #e6e8eb; border-radius: 8px; }
QStatusBar { background: #ffffff; border-top: 1px solid #e6e8eb; }
QTableView#agenda { border: none; gridline-color: #eef0f2; selection-background-color: #dbeafe;
                    selection-color: #1f2328; }
QHeaderView::section { background: #ffffff; border: none; border-bottom: 1px solid #e6e8eb; padding: 6px;
                       color: #656d76; font-weight: 600; }
QCalendarWidget QToolButton { color: #1f2328; font-weight: 600; }
QCalendarWidget QWidget#qt_calendar_navigationbar { background: #ffffff; }
"""


def system_zone() -> ZoneInfo:
    """The computer's time zone. On Linux and macOS the name is read from TZ or the /etc/localtime
    link (a few microseconds); Qt's lookup, used elsewhere, took about 7 ms of the window's start."""
    for name in (_zone_from_environment(), _zone_from_localtime_link()):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                continue
    try:
        return ZoneInfo(bytes(QTimeZone.systemTimeZoneId().data()).decode() or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC")


def _zone_from_environment() -> str:
    return os.environ.get("TZ", "").removeprefix(":")


def _zone_from_localtime_link() -> str:
    target = os.path.realpath("/etc/localtime")
    marker = "/zoneinfo/"
    return target.split(marker, 1)[1] if marker in target else ""


class MainWindow(QMainWindow):
    def __init__(self, service: CalendarService, settings: Settings, notices: list[str] | None = None, *,
                 sync_source: SyncStatusSource | None = None, zone: ZoneInfo | None = None,
                 now: Callable[[], datetime] | None = None, undo_seconds: float = 5.0) -> None:
        super().__init__()
        self.setWindowTitle("Calendar")
        self.resize(1280, 820)
        self.setStyleSheet(WINDOW_STYLE)
        self.service = service
        self.settings = settings
        self.sync_source = sync_source
        self.sync_enabled = sync_source is not None or settings.integration_enabled
        self.zone = zone or system_zone()
        self.now = now or (lambda: datetime.now(UTC))
        self.undo_seconds = undo_seconds
        self.locale = QLocale()
        self.mode = ViewMode.WORK_WEEK
        self.last_week_mode = ViewMode.WORK_WEEK
        self.anchor = self.now().astimezone(self.zone).date()
        self.selected_uuid = ""
        self.editor: AppointmentEditor | None = None
        self.conflict_dialog: ConflictDialog | None = None
        self.cancel_confirmation: CancelConfirmation | None = None

        self.model = AppointmentRangeModel(service, self.zone, sync_enabled=self.sync_enabled)
        self.range_loader = RangeLoader(service, self)
        self._neighbours: list[tuple[datetime, datetime]] = []
        self._prefetch_timer = QTimer(self)
        self._prefetch_timer.setSingleShot(True)
        self._prefetch_timer.timeout.connect(lambda: self.range_loader.prefetch(self._neighbours))
        self._build_views()
        self._build_toolbar()
        self._build_side_panel()
        self._build_central(notices or [])
        self._build_status_and_activity()
        self._build_actions()
        self._connect_sync()
        self.set_view(ViewMode.WORK_WEEK)
        self.week_view.scroll_to_hour(7.5)
        self._painted = False
        self._after_paint: list[Callable[[], object]] = []

    def after_first_paint(self, callback: Callable[[], object]) -> None:
        """Run `callback` on the GUI thread once the window has been painted for the first time (at
        the latest FIRST_PAINT_FALLBACK_MS from now, should no paint come, e.g. a minimised start)."""
        if self._painted:
            QTimer.singleShot(0, callback)
            return
        self._after_paint.append(callback)
        QTimer.singleShot(FIRST_PAINT_FALLBACK_MS, self, self._run_after_paint)

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            # the next turn of the event loop: this paint is on screen by then
            QTimer.singleShot(0, self, self._run_after_paint)

    def _run_after_paint(self) -> None:
        self._painted = True
        callbacks, self._after_paint = self._after_paint, []
        for callback in callbacks:
            callback()

    # ------------------------------------------------------------------ construction
    def _build_views(self) -> None:
        # The month view and the agenda are built when first shown: most starts open on a week.
        self.week_view = TimeGridView(self.model, self.zone, self.now)
        self._connect_view(self.week_view)
        self.week_view.move_requested.connect(self.move_appointment)
        self._month_view: MonthView | None = None
        self._agenda: QTableView | None = None
        self.stack = QStackedWidget()
        self.stack.addWidget(self.week_view)

    def _connect_view(self, view: TimeGridView | MonthView) -> None:
        view.create_requested.connect(self.new_appointment)
        view.open_requested.connect(self.open_appointment)
        view.selection_changed.connect(self._selected)
        view.day_activated.connect(lambda day: (self.go_to(day), self.set_view(ViewMode.DAY)))

    @property
    def month_view(self) -> MonthView:
        if self._month_view is None:
            from calendar_app.gui.calendar.month_view import MonthView

            self._month_view = MonthView(self.model, self.zone, self.now)
            self._month_view.selected_uuid = self.selected_uuid
            self._connect_view(self._month_view)
            self.stack.addWidget(self._month_view)
        return self._month_view

    @property
    def agenda(self) -> QTableView:
        if self._agenda is None:
            self._agenda = agenda = QTableView()
            agenda.setObjectName("agenda")
            agenda.setModel(self.model)
            agenda.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
            agenda.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
            agenda.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            agenda.setShowGrid(False)
            agenda.setAlternatingRowColors(True)
            agenda.setWordWrap(False)
            agenda.verticalHeader().hide()
            agenda.verticalHeader().setDefaultSectionSize(30)
            header = agenda.horizontalHeader()
            header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
            header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
            header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
            header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
            header.resizeSection(2, 240)
            header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            agenda.doubleClicked.connect(lambda index: self.open_appointment(index.data(UUID_ROLE)))
            agenda.selectionModel().currentRowChanged.connect(
                lambda current, _previous: self._selected(current.data(UUID_ROLE) or ""))
            self.stack.addWidget(agenda)
        return self._agenda

    def _views(self) -> list[TimeGridView | MonthView]:
        """The calendar views built so far."""
        return [self.week_view] + ([self._month_view] if self._month_view is not None else [])

    def _build_toolbar(self) -> None:
        bar = QToolBar("Navigation")
        bar.setObjectName("navigation")
        bar.setMovable(False)
        bar.setFloatable(False)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.new_button = QToolButton()
        self.new_button.setObjectName("newButton")
        self.new_button.setText("+ New appointment")  # an ASCII plus: fonts-dejavu-core has no fullwidth one
        self.new_button.clicked.connect(self.new_appointment)
        bar.addWidget(self.new_button)
        bar.addSeparator()
        self.today_button = QToolButton()
        self.today_button.setText("Today")
        self.today_button.clicked.connect(self.go_today)
        self.previous_button = QToolButton()
        self.previous_button.setText("‹")
        self.previous_button.setToolTip("Previous (←)")
        self.previous_button.clicked.connect(lambda: self.step(-1))
        self.next_button = QToolButton()
        self.next_button.setText("›")
        self.next_button.setToolTip("Next (→)")
        self.next_button.clicked.connect(lambda: self.step(1))
        for button in (self.today_button, self.previous_button, self.next_button):
            bar.addWidget(button)
        self.period_title = QLabel()
        self.period_title.setObjectName("periodTitle")
        bar.addWidget(self.period_title)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        self.view_buttons = QButtonGroup(self)
        self.view_buttons.setExclusive(True)
        for mode, label, key in ((ViewMode.DAY, "Day", "1"), (ViewMode.WORK_WEEK, "Work week", "2"),
                                 (ViewMode.WEEK, "Week", "W"), (ViewMode.MONTH, "Month", "3"),
                                 (ViewMode.AGENDA, "Agenda", "4")):
            button = QToolButton()
            button.setText(label)
            button.setCheckable(True)
            button.setToolTip(f"{label} ({key})")
            self.view_buttons.addButton(button, int(mode))
            bar.addWidget(button)
        self.view_buttons.idClicked.connect(lambda mode_id: self.set_view(ViewMode(mode_id)))

    def _build_side_panel(self) -> None:
        self.side_panel = QWidget()
        self.side_panel.setObjectName("sidePanel")
        self.side_panel.setFixedWidth(260)
        layout = QVBoxLayout(self.side_panel)
        layout.setContentsMargins(10, 12, 10, 12)
        layout.setSpacing(12)
        self.mini_month = QCalendarWidget()
        self.mini_month.setFirstDayOfWeek(self.locale.firstDayOfWeek())
        self.mini_month.setLocale(self.locale)
        self.mini_month.setGridVisible(False)
        self.mini_month.setVerticalHeaderFormat(QCalendarWidget.VerticalHeaderFormat.NoVerticalHeader)
        self.mini_month.setHorizontalHeaderFormat(QCalendarWidget.HorizontalHeaderFormat.SingleLetterDayNames)
        self.mini_month.setFixedHeight(230)
        muted = QTextCharFormat()
        muted.setForeground(palette.MUTED_TEXT)
        for day in (Qt.DayOfWeek.Saturday, Qt.DayOfWeek.Sunday):
            self.mini_month.setWeekdayTextFormat(day, muted)
        self.mini_month.clicked.connect(lambda qd: self.go_to(pydate(qd)))
        layout.addWidget(self.mini_month)
        zone_box = QLabel(f"<span style='color:#656d76'>Time zone</span><br><b>{self.zone.key}</b>")
        zone_box.setObjectName("zoneLabel")
        zone_box.setToolTip("Times are shown in this zone; each appointment keeps its own zone.")
        layout.addWidget(zone_box)
        if self.sync_enabled:
            legend = QLabel("<span style='color:#656d76'>Sync state</span><br>" + "<br>".join(
                f"<span style='color:{palette.BADGE_STYLE[state][0]}; font-weight:bold'>"
                f"{palette.BADGE_STYLE[state][1]}</span>&nbsp; {text}"
                for state, text in (("synced", "Synced"), ("pending", "Waiting to be sent"),
                                    ("failed", "Rejected by Exchange"), ("conflict", "Changed on both sides"))))
            layout.addWidget(legend)
        layout.addStretch(1)
        hint = QLabel("Double-click or drag on an empty slot to create. Drag to move, drag the lower edge to "
                      "resize.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #656d76; font-size: 90%;")
        layout.addWidget(hint)

    def _build_central(self, notices: list[str]) -> None:
        central = QWidget()
        central.setObjectName("centralArea")
        outer = QHBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.side_panel)
        right = QVBoxLayout()
        right.setContentsMargins(12, 10, 12, 8)
        right.setSpacing(8)
        self.notice_labels: list[QLabel] = []
        for notice in notices:
            label = QLabel(notice)
            label.setWordWrap(True)
            label.setObjectName("notice")
            label.setStyleSheet("background: #fff8c5; border: 1px solid #eac54f; padding: 6px 10px;"
                                " border-radius: 6px;")
            self.notice_labels.append(label)
            right.addWidget(label)
        frame = QFrame()
        frame.setObjectName("viewFrame")
        frame_layout = QVBoxLayout(frame)
        frame_layout.setContentsMargins(1, 1, 1, 1)
        frame_layout.addWidget(self.stack)
        right.addWidget(frame, 1)
        self.undo_bar = UndoBar()
        self.undo_bar.undo.connect(self.undo_cancel)
        self.undo_bar.expired.connect(self._commit_cancel)
        right.addWidget(self.undo_bar)
        outer.addLayout(right, 1)
        self.setCentralWidget(central)

    def _build_status_and_activity(self) -> None:
        self.status_widget = SyncStatusWidget(self.zone, self.now)
        self.connection_label = self.status_widget.connection_label
        self.statusBar().addPermanentWidget(self.status_widget, 1)
        self.activity_panel = ActivityPanel(self.zone)
        self.activity_panel.appointment_activated.connect(self.open_appointment)
        self.activity_dock = QDockWidget("Activity", self)
        self.activity_dock.setObjectName("activityDock")
        self.activity_dock.setWidget(self.activity_panel)
        self.activity_dock.setMinimumWidth(300)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.activity_dock)
        self.activity_dock.hide()
        self.activity_dock.visibilityChanged.connect(self.status_widget.activity_button.setChecked)
        self.status_widget.toggle_activity.connect(
            lambda: self.activity_dock.setVisible(not self.activity_dock.isVisible()))
        self.status_widget.sync_now.connect(self.request_sync)

    def _build_actions(self) -> None:
        def action(text: str, shortcut: QKeySequence | str | list, slot: Callable[[], object],
                   menu: object | None = None) -> QAction:
            act = QAction(text, self)
            if isinstance(shortcut, list):
                act.setShortcuts(shortcut)
            elif shortcut:
                act.setShortcut(QKeySequence(shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(lambda _checked=False: slot())
            self.addAction(act)
            if menu is not None:
                menu.addAction(act)  # type: ignore[attr-defined]
            return act

        menu_bar = self.menuBar()
        file_menu = menu_bar.addMenu("&File")
        action("&New appointment", QKeySequence.StandardKey.New, self.new_appointment, file_menu)
        file_menu.addSeparator()
        action("&Import iCalendar (.ics)…", "Ctrl+I", self.import_with_dialog, file_menu)
        action("&Export visible range…", "Ctrl+E", self.export_range_with_dialog, file_menu)
        action("Export &appointment…", "Ctrl+Shift+E", self.export_selected_with_dialog, file_menu)
        file_menu.addSeparator()
        action("&Close", QKeySequence.StandardKey.Close, self.close, file_menu)
        view_menu = menu_bar.addMenu("&View")
        action("&Today", "T", self.go_today, view_menu)
        action("&Previous", "Left", lambda: self.step(-1), view_menu)
        action("&Next", "Right", lambda: self.step(1), view_menu)
        view_menu.addSeparator()
        action("&Day", "1", lambda: self.set_view(ViewMode.DAY), view_menu)
        action("&Week", "2", lambda: self.set_view(self.last_week_mode), view_menu)
        action("Working week / full &week", "W", self.toggle_work_week, view_menu)
        action("&Month", "3", lambda: self.set_view(ViewMode.MONTH), view_menu)
        action("&Agenda", "4", lambda: self.set_view(ViewMode.AGENDA), view_menu)
        view_menu.addSeparator()
        view_menu.addAction(self.activity_dock.toggleViewAction())
        appointment_menu = menu_bar.addMenu("&Appointment")
        action("&Open", ["Return", "Enter"], self.open_selected, appointment_menu)
        action("&Cancel appointment…", QKeySequence.StandardKey.Delete, self.cancel_selected, appointment_menu)
        action("&Resolve conflict…", "", self.resolve_selected, appointment_menu)
        sync_menu = menu_bar.addMenu("&Sync")
        self.sync_action = action("Sync &now", "F5", self.request_sync, sync_menu)

    def _connect_sync(self) -> None:
        self.bridge = SyncBridge(self)
        self.bridge.status.connect(self._show_sync_status)
        self.bridge.changed.connect(self.appointment_changed)
        self.bridge.all_changed.connect(self.reload)
        self.bridge.activity_event.connect(self.activity_panel.add)
        if self.sync_source is not None:
            self.sync_source.add_listener(self.bridge)
            self._show_sync_status(self.sync_source.current_status())
        elif self.settings.integration_enabled:
            self.status_widget.show_local_only(OFFLINE_TEXT)
            self.status_widget.show_pending(self.service.pending_count())
        else:
            self.status_widget.show_local_only(LOCAL_ONLY_TEXT)
        self.sync_action.setEnabled(self.sync_source is not None)

    # ------------------------------------------------------------------ navigation
    def set_view(self, mode: ViewMode) -> None:
        self.mode = mode
        if mode in (ViewMode.WEEK, ViewMode.WORK_WEEK):
            self.last_week_mode = mode
        button = self.view_buttons.button(int(mode))
        if button is not None:
            button.setChecked(True)
        self._show_range()

    def toggle_work_week(self) -> None:
        self.set_view(ViewMode.WEEK if self.mode == ViewMode.WORK_WEEK else ViewMode.WORK_WEEK)

    def go_to(self, day: date) -> None:
        self.anchor = day
        self._show_range()

    def go_today(self) -> None:
        self.go_to(self.now().astimezone(self.zone).date())

    def step(self, direction: int) -> None:
        self.go_to(step(self.mode, self.anchor, direction))

    def visible_range(self, anchor: date | None = None) -> tuple[datetime, datetime]:
        return self._range_of(self.mode, anchor or self.anchor)

    def _range_of(self, mode: ViewMode, anchor: date) -> tuple[datetime, datetime]:
        days = visible_days(mode, anchor, self.locale)
        return (datetime.combine(days[0], time(0), self.zone),
                datetime.combine(days[-1] + timedelta(days=1), time(0), self.zone))

    def _show_range(self) -> None:
        days = visible_days(self.mode, self.anchor, self.locale)
        start, end = self.visible_range()
        try:
            rows = self.range_loader.take((start, end))
            if rows is None:
                rows = self.service.list_range(start, end)
                # kept like a prefetched range: switching to a day or week inside it is then instant
                self.range_loader.remember((start, end), rows)
            self.model.set_range(start, end, rows)
        except StoreError as error:
            self._report_error("The calendar could not be read.", str(error))
        # Where the rep most likely goes next; started once this range is on screen, so the
        # reading thread does not compete with this paint for the interpreter.
        self._neighbours = [self.visible_range(step(self.mode, self.anchor, direction)) for direction in (1, -1)]
        if self.mode != ViewMode.MONTH:
            # the month around it: every week and day in it, and the month view, are then ready
            self._neighbours.append(self._range_of(ViewMode.MONTH, self.anchor))
        self._prefetch_timer.start(PREFETCH_DELAY_MS)
        if self.mode in (ViewMode.DAY, ViewMode.WEEK, ViewMode.WORK_WEEK):
            self.week_view.set_days(days)
            self.stack.setCurrentWidget(self.week_view)
        elif self.mode == ViewMode.MONTH:
            self.month_view.set_month(self.anchor.replace(day=1), days)
            self.stack.setCurrentWidget(self.month_view)
        else:
            self.stack.setCurrentWidget(self.agenda)
        self.period_title.setText(title(self.mode, self.anchor, days, self.locale))
        self.mini_month.blockSignals(True)
        self.mini_month.setSelectedDate(qdate(self.anchor))
        self.mini_month.blockSignals(False)

    # ------------------------------------------------------------------ selection
    def _selected(self, uuid: str) -> None:
        self.selected_uuid = uuid
        for view in self._views():
            if view.selected_uuid != uuid:
                view.selected_uuid = uuid
                view.update()

    def open_selected(self) -> None:
        if self.selected_uuid:
            self.open_appointment(self.selected_uuid)

    def cancel_selected(self) -> None:
        if self.selected_uuid:
            self.cancel_appointment(self.selected_uuid)

    def resolve_selected(self) -> None:
        if self.selected_uuid:
            self.open_conflict_dialog(self.selected_uuid)

    # ------------------------------------------------------------------ create / edit
    def new_appointment(self, start: datetime | None = None, end: datetime | None = None,
                        all_day: bool = False) -> AppointmentEditor:
        if start is None:
            now = self.now().astimezone(self.zone)
            base = datetime.combine(self.anchor, time(now.hour), self.zone) + timedelta(hours=1)
            start, end = base, base + timedelta(minutes=30)
        from calendar_app.gui.calendar.editor_dialog import AppointmentEditor

        return self._open_editor(AppointmentEditor(self, start=start, end=end, all_day=all_day, zone=self.zone))

    def open_appointment(self, uuid: str) -> QWidget | None:
        stored = self.service.get(uuid)
        if stored is None:
            self.model.refresh(uuid)
            return None
        self._selected(uuid)
        if stored.sync_state == "conflict":
            return self.open_conflict_dialog(uuid)
        note = ""
        if stored.sync_state == "failed" and self.sync_enabled:
            note = f"Exchange did not accept the last change: {stored.last_error or 'no reason was given.'}"
        from calendar_app.gui.calendar.editor_dialog import AppointmentEditor

        return self._open_editor(AppointmentEditor(self, appointment=stored.appointment, zone=self.zone,
                                                   sync_note=note))

    def _open_editor(self, editor: AppointmentEditor) -> AppointmentEditor:
        if self.editor is not None:
            self.editor.close()
        self.editor = editor
        editor.saved.connect(lambda appointment: self._save_from_editor(editor, appointment))
        editor.finished.connect(lambda _result: self._editor_closed(editor))
        editor.open()
        return editor

    def _editor_closed(self, editor: AppointmentEditor) -> None:
        if self.editor is editor:
            self.editor = None
        editor.deleteLater()

    def _save_from_editor(self, editor: AppointmentEditor, appointment: Appointment) -> None:
        try:
            is_new = self.service.get(appointment.uuid) is None
            fields = self.service.save(appointment)
        except ValidationError as error:
            editor.show_problems(error)
            return
        except StoreError as error:
            editor.show_save_failure(f"Not saved: {error}")
            return
        editor.accept()
        self.appointment_changed(appointment.uuid)
        self._selected(appointment.uuid)
        if is_new or fields:
            verb = "Created" if is_new else "Saved"
            self._local_activity(f"{verb} “{appointment.subject}”", appointment.uuid)
            self._after_local_change()

    def move_appointment(self, uuid: str, start: datetime, end: datetime) -> None:
        try:
            fields = self.service.move(uuid, start, end)
        except ValidationError as error:
            self._report_error("The appointment could not be moved.", str(error))
            return
        except StoreError as error:
            self._report_error("The appointment could not be moved.", str(error))
            return
        self.appointment_changed(uuid)
        if fields:
            stored = self.service.get(uuid)
            subject = stored.appointment.subject if stored else ""
            self._local_activity(f"Moved “{subject}”", uuid)
            self._after_local_change()

    # ------------------------------------------------------------------ cancel with undo
    def cancel_appointment(self, uuid: str) -> CancelConfirmation | None:
        stored = self.service.get(uuid)
        if stored is None:
            return None
        from calendar_app.gui.calendar.cancel_flow import CancelConfirmation

        dialog = CancelConfirmation(self, stored.appointment, sync_enabled=self.sync_enabled)
        self.cancel_confirmation = dialog

        def done() -> None:
            confirmed = dialog.clickedButton() is dialog.confirm_button
            self.cancel_confirmation = None
            dialog.deleteLater()
            if confirmed:
                self._start_cancel(stored.appointment)

        dialog.finished.connect(lambda _result: done())
        dialog.open()
        return dialog

    def _start_cancel(self, appointment: Appointment) -> None:
        self.undo_bar.finish_now()  # one waiting cancellation at a time: commit the previous one
        self.model.hide(appointment.uuid)
        if self.selected_uuid == appointment.uuid:
            self._selected("")
        self.undo_bar.start(appointment.uuid, appointment.subject, self.undo_seconds)

    def undo_cancel(self, uuid: str) -> None:
        self.model.unhide(uuid)
        self._local_activity("Cancellation undone", uuid)

    def _commit_cancel(self, uuid: str) -> None:
        stored = self.service.get(uuid)
        try:
            self.service.cancel(uuid)
        except StoreError as error:
            self.model.unhide(uuid)
            self._report_error("The appointment could not be cancelled.", str(error))
            return
        self.range_loader.apply_change(uuid, None)
        self.model.unhide(uuid)  # the store now says cancelled: refresh drops it for good
        subject = stored.appointment.subject if stored else ""
        self._local_activity(f"Cancelled “{subject}”", uuid)
        self._after_local_change()

    # ------------------------------------------------------------------ conflicts
    def open_conflict_dialog(self, uuid: str) -> ConflictDialog | None:
        versions = self.service.conflict_versions(uuid)
        if versions is None:
            return None
        from calendar_app.gui.calendar.conflict_dialog import ConflictDialog

        dialog = ConflictDialog(self, versions, self.zone)
        self.conflict_dialog = dialog
        dialog.resolved.connect(lambda appointment: self._resolve(dialog, appointment))
        dialog.finished.connect(lambda _result: self._conflict_closed(dialog))
        dialog.open()
        return dialog

    def _conflict_closed(self, dialog: ConflictDialog) -> None:
        if self.conflict_dialog is dialog:
            self.conflict_dialog = None
        dialog.deleteLater()

    def _resolve(self, dialog: ConflictDialog, resolved: Appointment) -> None:
        try:
            fields = self.service.resolve_conflict(resolved)
        except (StoreError, ValidationError) as error:
            from PySide6.QtWidgets import QMessageBox

            QMessageBox.warning(dialog, "Resolve conflict", f"Not saved: {error}")
            return
        dialog.accept()
        self.appointment_changed(resolved.uuid)
        what = f"sending {', '.join(fields)} to Exchange" if fields else "Exchange's version kept"
        self._local_activity(f"Conflict on “{resolved.subject}” resolved: {what}", resolved.uuid)
        self._after_local_change()

    # ------------------------------------------------------------------ sync
    def appointment_changed(self, uuid: str) -> None:
        """One appointment changed in the store (here or by sync): update just its row."""
        try:
            stored = self.service.get(uuid)
            self.range_loader.apply_change(uuid, stored)
            self.model.apply(uuid, stored)
        except StoreError as error:
            self._report_error("The calendar could not be read.", str(error))

    def reload(self) -> None:
        """Forget everything read ahead and read the visible range again."""
        self.range_loader.invalidate()
        self._show_range()

    def request_sync(self) -> None:
        if self.sync_source is not None:
            self.sync_source.request_sync()

    def _after_local_change(self) -> None:
        if self.sync_source is not None:
            self.sync_source.request_sync()
        elif self.settings.integration_enabled:
            self.status_widget.show_pending(self.service.pending_count())

    def _show_sync_status(self, status: SyncStatus) -> None:
        self.status_widget.show_status(status)

    def _local_activity(self, message: str, uuid: str | None = None) -> None:
        explanation = ""
        if self.sync_source is None:
            explanation = ("Saved in this calendar." if not self.settings.integration_enabled else
                           "Saved here; it is sent to Exchange when sync runs.")
        self.activity_panel.add(ActivityEvent(datetime.now(UTC), ActivityLevel.INFO, message, explanation, uuid))

    def _report_error(self, message: str, detail: str) -> None:
        self.activity_panel.add(ActivityEvent(datetime.now(UTC), ActivityLevel.ERROR, message, detail))
        self.statusBar().showMessage(f"{message} {detail}", 10_000)

    # ------------------------------------------------------------------ iCalendar
    # icalendar is imported on first use: most sessions never import or export a file.
    def export_visible_range(self, path: Path) -> int:
        from calendar_app.services.icalendar_io import export_calendar

        items = [s.appointment for s in self.model.appointments()]
        path.write_bytes(export_calendar(items))
        return len(items)

    def export_appointment(self, uuid: str, path: Path) -> None:
        from calendar_app.services.icalendar_io import export_calendar

        stored = self.service.get(uuid)
        if stored is not None:
            path.write_bytes(export_calendar([stored.appointment]))

    def import_file(self, path: Path) -> None:
        from calendar_app.services.icalendar_io import IcsImportError, import_into

        try:
            report = import_into(self.service, path.read_bytes(), default_zone=self.zone.key)
        except (OSError, IcsImportError, StoreError) as error:
            self._report_error(f"{path.name} could not be imported.", str(getattr(error, "strerror", None)
                                                                            or error))
            return
        for uuid in report.saved:
            self.appointment_changed(uuid)
        level = ActivityLevel.WARNING if report.problems else ActivityLevel.INFO
        self.activity_panel.add(ActivityEvent(datetime.now(UTC), level,
                                              f"Imported {len(report.saved)} appointment(s) from {path.name}",
                                              "\n".join(report.problems)))
        self.statusBar().showMessage(f"Imported {len(report.saved)} appointment(s) from {path.name}"
                                     + (f"; {len(report.problems)} skipped (see Activity)" if report.problems
                                        else ""), 10_000)
        if report.saved:
            self._after_local_change()

    def import_with_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog  # here: its type costs ~0.7 ms of every start

        name, _ = QFileDialog.getOpenFileName(self, "Import iCalendar", str(Path.home()),
                                              "iCalendar files (*.ics *.ical *.ifb);;All files (*)")
        if name:
            self.import_file(Path(name))

    def export_range_with_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        name, _ = QFileDialog.getSaveFileName(self, "Export visible range", str(Path.home() / "calendar.ics"),
                                              "iCalendar files (*.ics)")
        if name:
            try:
                count = self.export_visible_range(Path(name))
            except OSError as error:
                self._report_error(f"{name} could not be written.", str(error.strerror))
                return
            self.statusBar().showMessage(f"Exported {count} appointment(s) to {name}", 10_000)

    def export_selected_with_dialog(self) -> None:
        stored = self.service.get(self.selected_uuid) if self.selected_uuid else None
        if stored is None:
            self.statusBar().showMessage("Select an appointment to export first.", 5_000)
            return
        from PySide6.QtWidgets import QFileDialog

        safe = "".join(c if c.isalnum() or c in " -_" else "_" for c in stored.appointment.subject)[:60] or "event"
        name, _ = QFileDialog.getSaveFileName(self, "Export appointment", str(Path.home() / f"{safe}.ics"),
                                              "iCalendar files (*.ics)")
        if name:
            try:
                self.export_appointment(stored.appointment.uuid, Path(name))
            except OSError as error:
                self._report_error(f"{name} could not be written.", str(error.strerror))

    # ------------------------------------------------------------------ closing
    def closeEvent(self, event) -> None:
        # A cancellation still inside its undo window was confirmed: keep the rep's decision.
        self.undo_bar.finish_now()
        self._prefetch_timer.stop()
        self.range_loader.stop()
        super().closeEvent(event)

