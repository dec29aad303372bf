"""A conflict, field by field: the rep's version next to Exchange's, one choice per row, or
"Keep all mine" / "Take all Exchange's". Start, end, zone and all-day travel together as "When"
(half of one and half of the other would be a meeting nobody scheduled), as do the attendees."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from PySide6.QtCore import QLocale, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from calendar_app.domain import Appointment, FreeBusy
from calendar_app.gui.calendar.editor_dialog import REMINDER_CHOICES, SHOW_AS_LABELS
from calendar_app.gui.calendar.formatting import when_text
from calendar_app.services.calendar_service import ConflictVersions

# (row label, the Appointment fields it carries)
FIELD_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Subject", ("subject",)),
    ("When", ("start", "end", "timezone", "is_all_day")),
    ("Location", ("location",)),
    ("Attendees", ("required_attendees", "optional_attendees")),
    ("Description", ("body",)),
    ("Reminder", ("reminder_minutes",)),
    ("Show as", ("free_busy",)),
    ("Private", ("is_private",)),
    ("Categories", ("categories",)),
)
MINE, EXCHANGE = 0, 1


class ConflictDialog(QDialog):
    resolved = Signal(object)  # the Appointment holding the chosen value of every field

    def __init__(self, parent: QWidget | None, versions: ConflictVersions, zone: ZoneInfo) -> None:
        super().__init__(parent)
        self.setObjectName("conflictDialog")
        self.setWindowTitle("Resolve conflict")
        self.setMinimumWidth(720)
        self.versions = versions
        self._zone = zone
        self._locale = QLocale()
        differing = set(versions.differing_fields) | set(versions.conflicting_fields)
        self.groups = [(label, names) for label, names in FIELD_GROUPS if differing & set(names)]
        self.choices: dict[str, QButtonGroup] = {}

        intro = QLabel(
            f"<b>{_escape(versions.mine.subject)}</b> was changed here and in Exchange since the last sync. "
            "Choose which value to keep for each field. Your choice is sent to Exchange on the next sync.")
        intro.setWordWrap(True)
        grid_holder = QWidget()
        grid = QGridLayout(grid_holder)
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(10)
        for column, title in enumerate(("", "Mine (this computer)", "Exchange")):
            heading = QLabel(f"<b>{title}</b>")
            grid.addWidget(heading, 0, column)
        both_sides = set(versions.conflicting_fields)
        for row, (label, names) in enumerate(self.groups, start=1):
            heading = f"<b>{label}</b>"
            if both_sides & set(names):
                heading += "<br><span style='color:#8250df'>⇄ changed on both sides</span>"
            grid.addWidget(QLabel(heading), row, 0, Qt.AlignmentFlag.AlignTop)
            group = QButtonGroup(self)
            for column, version in ((MINE, versions.mine), (EXCHANGE, versions.exchange)):
                button = QRadioButton(self._describe(version, names))
                button.setObjectName(f"{label}_{'mine' if column == MINE else 'exchange'}")
                button.setStyleSheet("QRadioButton { padding: 6px; border: 1px solid #d0d7de; border-radius: 6px; }"
                                     "QRadioButton:checked { border-color: #0b63ce; background: #f2f7fd; }")
                group.addButton(button, column)
                grid.addWidget(button, row, column + 1)
            group.button(MINE).setChecked(True)
            self.choices[label] = group
        grid.setRowStretch(len(self.groups) + 1, 1)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(grid_holder)

        self.keep_mine = QPushButton("Keep all mine")
        self.take_exchange = QPushButton("Take all Exchange's")
        self.keep_mine.clicked.connect(lambda: self.choose_all(MINE))
        self.take_exchange.clicked.connect(lambda: self.choose_all(EXCHANGE))
        buttons = QDialogButtonBox()
        buttons.addButton(self.keep_mine, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.take_exchange, QDialogButtonBox.ButtonRole.ActionRole)
        self.apply_button = buttons.addButton("Use these values", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton("Decide later", QDialogButtonBox.ButtonRole.RejectRole)
        self.apply_button.clicked.connect(self._apply)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(scroll, 1)
        layout.addWidget(buttons)

    def choose_all(self, side: int) -> None:
        for group in self.choices.values():
            group.button(side).setChecked(True)

    def choose(self, label: str, side: int) -> None:
        self.choices[label].button(side).setChecked(True)

    def result_appointment(self) -> Appointment:
        values = {}
        for label, names in self.groups:
            source = self.versions.exchange if self.choices[label].checkedId() == EXCHANGE else self.versions.mine
            for name in names:
                values[name] = getattr(source, name)
        return self.versions.mine.with_changes(**values)

    def _apply(self) -> None:
        self.resolved.emit(self.result_appointment())

    def _describe(self, a: Appointment, names: tuple[str, ...]) -> str:
        first = names[0]
        if first == "start":
            return f"{when_text(a, ZoneInfo(a.timezone), self._locale)}\n{a.timezone}"
        if first == "required_attendees":
            lines = [f"{x} (required)" for x in a.required_attendees]
            lines += [f"{x} (optional)" for x in a.optional_attendees]
            return "\n".join(lines) or "(nobody)"
        value = getattr(a, first)
        if first == "reminder_minutes":
            return next((label for label, minutes in REMINDER_CHOICES if minutes == value), f"{value} minutes")
        if first == "free_busy":
            return SHOW_AS_LABELS.get(FreeBusy(value), str(value))
        if first == "is_private":
            return "Private" if value else "Not private"
        if first == "categories":
            return ", ".join(value) or "(none)"
        if first == "body":
            text = str(value).strip()
            return (text[:300] + "…") if len(text) > 300 else (text or "(empty)")
        return str(value) or "(empty)"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

