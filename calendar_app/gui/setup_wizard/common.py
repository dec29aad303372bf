"""Small pieces every page uses: a wrapped label, a message line that can show an error, a base page
that keeps its answers when the admin goes Back."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QWizardPage

ERROR_STYLE = "color: #b00020;"
WARNING_STYLE = "color: #8a5300;"
OK_STYLE = "color: #1b5e20;"


def wrapped(text: str = "", *, selectable: bool = False) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class MessageLine(QLabel):
    """One place per page for 'what went wrong and what to do'."""

    def __init__(self) -> None:
        super().__init__()
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_error(self, text: str) -> None:
        self._show(text, ERROR_STYLE)

    def show_warning(self, text: str) -> None:
        self._show(text, WARNING_STYLE)

    def show_ok(self, text: str) -> None:
        self._show(text, OK_STYLE)

    def clear_message(self) -> None:
        self.setText("")
        self.hide()

    def _show(self, text: str, style: str) -> None:
        self.setStyleSheet(style)
        self.setText(text)
        self.setVisible(bool(text))


class KeepingPage(QWizardPage):
    """QWizardPage resets its fields on Back; the admin's answers must survive going back and forth."""

    def cleanupPage(self) -> None:
        return None


class RequiredTextPage(KeepingPage):
    """Qt counts a mandatory field as filled only once it differs from its value at initializePage(),
    so pre-filled answers (--demo, a re-run) would keep Next disabled. Here filled means not blank."""

    required_edits: tuple[QLineEdit, ...] = ()

    def isComplete(self) -> bool:
        return all(edit.text().strip() for edit in self.required_edits)
