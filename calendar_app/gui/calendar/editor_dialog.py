"""The appointment editor. It builds a domain `Appointment` and shows every `ValidationError`
problem under the field it belongs to, so the rep fixes them all in one go."""

from __future__ import annotations

import functools
import re
import uuid as uuid_module
import zoneinfo
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QDateTime, QLocale, Qt, QTime, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from calendar_app.domain import Appointment, FreeBusy, ValidationError
from calendar_app.domain.appointment import is_valid_email
from calendar_app.gui.calendar.formatting import qdate

REMINDER_CHOICES: tuple[tuple[str, int | None], ...] = (
    ("None", None), ("At start", 0), ("5 minutes before", 5), ("10 minutes before", 10),
    ("15 minutes before", 15), ("30 minutes before", 30), ("1 hour before", 60), ("2 hours before", 120),
    ("1 day before", 1440), ("1 week before", 10080),
)
SHOW_AS_LABELS = {
    FreeBusy.FREE: "Free", FreeBusy.TENTATIVE: "Tentative", FreeBusy.BUSY: "Busy",
    FreeBusy.OUT_OF_OFFICE: "Out of office", FreeBusy.WORKING_ELSEWHERE: "Working elsewhere",
}
_ADDRESS_SPLIT = re.compile(r"[;,\s]+")
_ERROR_STYLE = "color: #cf222e; font-size: 90%;"
_BAD_FIELD_STYLE = "border: 1px solid #cf222e; border-radius: 3px;"


@functools.cache
def all_zone_names() -> tuple[str, ...]:
    return tuple(sorted(n for n in zoneinfo.available_timezones() if "/" in n or n == "UTC"))


def split_addresses(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in _ADDRESS_SPLIT.split(text) if part.strip())


class AppointmentEditor(QDialog):
    saved = Signal(object)  # the validated Appointment

    def __init__(self, parent: QWidget | None, *, appointment: Appointment | None = None,
                 start: datetime | None = None, end: datetime | None = None, all_day: bool = False,
                 zone: ZoneInfo, sync_note: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("appointmentEditor")
        self._original = appointment
        self._zone = zone
        self.setWindowTitle("Edit appointment" if appointment else "New appointment")
        self.setMinimumWidth(560)
        locale = QLocale()
        date_time_format = f"{locale.dateFormat(QLocale.FormatType.ShortFormat)}  " \
                           f"{locale.timeFormat(QLocale.FormatType.ShortFormat)}"
        self._date_time_format = date_time_format
        self._date_format = locale.dateFormat(QLocale.FormatType.ShortFormat)

        self.subject = QLineEdit()
        self.subject.setPlaceholderText("What is it about?")
        self.location = QLineEdit()
        self.location.setPlaceholderText("Room, address or call link")
        self.start = QDateTimeEdit()
        self.end = QDateTimeEdit()
        for edit in (self.start, self.end):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat(date_time_format)
        self.all_day = QCheckBox("All day")
        self.zone = QComboBox()
        self.zone.setEditable(True)
        self.zone.addItems(list(all_zone_names()))
        self.zone.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        completer = QCompleter(list(all_zone_names()), self.zone)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.zone.setCompleter(completer)
        self.required = QLineEdit()
        self.required.setPlaceholderText("name@example.com; other@example.com")
        self.optional = QLineEdit()
        self.optional.setPlaceholderText("Optional attendees")
        self.reminder = QComboBox()
        for label, minutes in REMINDER_CHOICES:
            self.reminder.addItem(label, minutes)
        self.show_as = QComboBox()
        for value, label in SHOW_AS_LABELS.items():
            self.show_as.addItem(label, value.value)
        self.private = QCheckBox("Private (others see only that you are busy)")
        self.categories = QLineEdit()
        self.categories.setPlaceholderText("Customer visit, Follow-up")
        self.description = QPlainTextEdit()
        self.description.setPlaceholderText("Agenda, notes, dial-in details…")
        self.description.setMinimumHeight(90)

        self.errors: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        when_row = QHBoxLayout()
        when_row.addWidget(self.start, 1)
        when_row.addWidget(QLabel("to"))
        when_row.addWidget(self.end, 1)
        when_row.addWidget(self.all_day)
        # (label, editor, field): a row without an editor holds only the messages for that field
        rows: list[tuple[str, QWidget | QHBoxLayout | None, str]] = [
            ("Subject", self.subject, "subject"),
            ("Location", self.location, "location"),
            ("When", when_row, "start"),
            ("", None, "end"),
            ("Time zone", self.zone, "timezone"),
            ("Required", self.required, "required_attendees"),
            ("Optional", self.optional, "optional_attendees"),
            ("", None, "attendees"),
            ("Reminder", self.reminder, "reminder_minutes"),
            ("Show as", self.show_as, "free_busy"),
            ("", self.private, "is_private"),
            ("Categories", self.categories, "categories"),
            ("Description", self.description, "body"),
        ]
        for label, widget, field_name in rows:
            holder = QVBoxLayout()
            holder.setSpacing(2)
            if isinstance(widget, QHBoxLayout):
                holder.addLayout(widget)
            elif widget is not None:
                holder.addWidget(widget)
            error = QLabel()
            error.setObjectName(f"error_{field_name}")
            error.setStyleSheet(_ERROR_STYLE)
            error.setWordWrap(True)
            error.hide()
            holder.addWidget(error)
            self.errors[field_name] = error
            form.addRow(label, holder)
        self.general_error = QLabel()
        self.general_error.setStyleSheet(_ERROR_STYLE)
        self.general_error.setWordWrap(True)
        self.general_error.hide()

        self.buttons = QDialogButtonBox()
        self.save_button = QPushButton("Save")
        self.save_button.setDefault(True)
        self.buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.save_button.clicked.connect(self.try_save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        self.sync_note = QLabel(sync_note)
        self.sync_note.setObjectName("syncNote")
        self.sync_note.setWordWrap(True)
        self.sync_note.setStyleSheet("background: #ffebe9; border: 1px solid #ff8182; border-radius: 6px;"
                                     " padding: 6px 10px; color: #82071e;")
        self.sync_note.setVisible(bool(sync_note))
        layout.addWidget(self.sync_note)
        layout.addLayout(form)
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)

        self.all_day.toggled.connect(self._all_day_toggled)
        self.required.editingFinished.connect(lambda: self._check_addresses(self.required, "required_attendees"))
        self.optional.editingFinished.connect(lambda: self._check_addresses(self.optional, "optional_attendees"))
        self.start.dateTimeChanged.connect(self._start_changed)
        self._fill(appointment, start, end, all_day)

    # ------------------------------------------------------------------ filling
    def _fill(self, a: Appointment | None, start: datetime | None, end: datetime | None, all_day: bool) -> None:
        if a is not None:
            zone = ZoneInfo(a.timezone)
            self._set_zone(a.timezone)
            self.subject.setText(a.subject)
            self.location.setText(a.location)
            self.all_day.setChecked(a.is_all_day)
            self._set_times(a.start.astimezone(zone), a.end.astimezone(zone), a.is_all_day)
            self.required.setText("; ".join(a.required_attendees))
            self.optional.setText("; ".join(a.optional_attendees))
            self.reminder.setCurrentIndex(max(0, self.reminder.findData(a.reminder_minutes)))
            if self.reminder.findData(a.reminder_minutes) < 0 and a.reminder_minutes is not None:
                self.reminder.addItem(f"{a.reminder_minutes} minutes before", a.reminder_minutes)
                self.reminder.setCurrentIndex(self.reminder.count() - 1)
            self.show_as.setCurrentIndex(max(0, self.show_as.findData(a.free_busy.value)))
            self.private.setChecked(a.is_private)
            self.categories.setText(", ".join(a.categories))
            self.description.setPlainText(a.body)
            return
        self._set_zone(self._zone.key)
        start = (start or datetime.now(self._zone)).astimezone(self._zone)
        end = (end or start + timedelta(minutes=30)).astimezone(self._zone)
        self.all_day.setChecked(all_day)
        self._set_times(start, end, all_day)
        self.reminder.setCurrentIndex(self.reminder.findData(15))
        self.show_as.setCurrentIndex(self.show_as.findData(FreeBusy.BUSY.value))

    def _set_zone(self, name: str) -> None:
        index = self.zone.findText(name)
        if index < 0:
            self.zone.addItem(name)
            index = self.zone.count() - 1
        self.zone.setCurrentIndex(index)

    def _set_times(self, start: datetime, end: datetime, all_day: bool) -> None:
        self._last_start = start
        if all_day:
            last_day = (end - timedelta(days=1)).date() if end > start else start.date()
            self.start.setDateTime(QDateTime(qdate(start.date()), QTime(0, 0)))
            self.end.setDateTime(QDateTime(qdate(last_day), QTime(0, 0)))
        else:
            self.start.setDateTime(_qdatetime(start))
            self.end.setDateTime(_qdatetime(end))
        self._all_day_toggled(all_day)

    def _all_day_toggled(self, on: bool) -> None:
        for edit in (self.start, self.end):
            edit.setDisplayFormat(self._date_format if on else self._date_time_format)

    def _start_changed(self, new_start: QDateTime) -> None:
        """Moving the start keeps the duration, as every calendar does."""
        previous = getattr(self, "_previous_start", None)
        if previous is not None:
            shift = previous.secsTo(new_start)
            self.end.blockSignals(True)
            self.end.setDateTime(self.end.dateTime().addSecs(shift))
            self.end.blockSignals(False)
        self._previous_start = new_start

    # ------------------------------------------------------------------ validation
    def _check_addresses(self, edit: QLineEdit, field_name: str) -> bool:
        bad = [x for x in split_addresses(edit.text()) if not is_valid_email(x)]
        if bad:
            self._show_error(field_name, [f"'{x}' is not an e-mail address (expected name@example.com)."
                                          for x in bad], edit)
        else:
            self._show_error(field_name, [], edit)
        return not bad

    def _show_error(self, field_name: str, messages: list[str], widget: QWidget | None = None) -> None:
        label = self.errors.get(field_name)
        if label is None:
            if messages:
                self.general_error.setText("\n".join(messages))
                self.general_error.show()
            return
        label.setText("\n".join(messages))
        label.setVisible(bool(messages))
        if widget is not None:
            widget.setStyleSheet(_BAD_FIELD_STYLE if messages else "")

    def _widget_for(self, field_name: str) -> QWidget | None:
        return {
            "subject": self.subject, "location": self.location, "start": self.start, "end": self.end,
            "timezone": self.zone, "required_attendees": self.required, "optional_attendees": self.optional,
            "categories": self.categories, "body": self.description,
        }.get(field_name)

    def build(self) -> Appointment:
        """The appointment the fields describe; raises ValidationError listing every problem."""
        zone_name = self.zone.currentText().strip()
        try:
            zone = ZoneInfo(zone_name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            zone = ZoneInfo("UTC")
        if self.all_day.isChecked():
            first = _pydate(self.start.date())
            last = _pydate(self.end.date())
            start = datetime.combine(first, time(0), zone)
            end = datetime.combine(last + timedelta(days=1), time(0), zone)
        else:
            start = _pydatetime(self.start.dateTime(), zone)
            end = _pydatetime(self.end.dateTime(), zone)
        categories = tuple(c.strip() for c in self.categories.text().split(",") if c.strip())
        return Appointment(
            uuid=self._original.uuid if self._original else str(uuid_module.uuid4()),
            subject=self.subject.text().strip(),
            location=self.location.text().strip(),
            body=self.description.toPlainText(),
            start=start,
            end=end,
            timezone=zone_name,
            is_all_day=self.all_day.isChecked(),
            required_attendees=split_addresses(self.required.text()),
            optional_attendees=split_addresses(self.optional.text()),
            reminder_minutes=self.reminder.currentData(),
            free_busy=FreeBusy(self.show_as.currentData()),
            is_private=self.private.isChecked(),
            categories=categories,
        )

    def try_save(self) -> None:
        for name in self.errors:
            self._show_error(name, [], self._widget_for(name))
        self.general_error.hide()
        try:
            appointment = self.build()
        except ValidationError as error:
            self.show_problems(error)
            return
        self.saved.emit(appointment)

    def show_problems(self, error: ValidationError) -> None:
        by_field: dict[str, list[str]] = {}
        for problem in error.problems:
            by_field.setdefault(problem.field, []).append(problem.message)
        for field_name, messages in by_field.items():
            self._show_error(field_name, messages, self._widget_for(field_name))
        first = next((self._widget_for(f) for f in by_field if self._widget_for(f) is not None), None)
        if first is not None:
            first.setFocus()

    def show_save_failure(self, message: str) -> None:
        """The store refused (disk full, locked...): say so, keep everything the rep typed."""
        self.general_error.setText(message)
        self.general_error.show()


def _qdatetime(moment: datetime) -> QDateTime:
    return QDateTime(QDate(moment.year, moment.month, moment.day), QTime(moment.hour, moment.minute))


def _pydate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


def _pydatetime(value: QDateTime, zone: ZoneInfo) -> datetime:
    d, t = value.date(), value.time()
    return datetime(d.year(), d.month(), d.day(), t.hour(), t.minute(), tzinfo=zone)
