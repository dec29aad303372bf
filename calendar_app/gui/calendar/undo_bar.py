"""The bar that offers a few seconds to undo a cancellation before the store (and so Exchange)
hears of it. Built with the window; the confirmation before it (`cancel_flow`) loads on first use."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget


class UndoBar(QFrame):
    """Shown while a cancellation waits; `expired` fires when the undo window closes."""

    undo = Signal(str)
    expired = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("undoBar")
        self.setStyleSheet("#undoBar { background: #24292f; border-radius: 6px; }"
                           "#undoBar QLabel { color: #ffffff; }"
                           "#undoBar QPushButton { color: #79c0ff; background: transparent; border: none;"
                           " font-weight: bold; padding: 4px 10px; }")
        self.label = QLabel()
        self.undo_button = QPushButton("Undo")
        self.undo_button.setCursor(Qt.CursorShape.PointingHandCursor)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.undo_button)
        self.uuid = ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._expire)
        self.undo_button.clicked.connect(self._undo)
        self.hide()

    def start(self, uuid: str, subject: str, seconds: float) -> None:
        self.uuid = uuid
        self.label.setText(f"“{subject}” cancelled. You can undo for {seconds:g} seconds.")
        self._timer.start(int(seconds * 1000))
        self.show()

    def is_waiting(self) -> bool:
        return self._timer.isActive()

    def finish_now(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self._expire()

    def _expire(self) -> None:
        uuid, self.uuid = self.uuid, ""
        self.hide()
        if uuid:
            self.expired.emit(uuid)

    def _undo(self) -> None:
        self._timer.stop()
        uuid, self.uuid = self.uuid, ""
        self.hide()
        if uuid:
            self.undo.emit(uuid)
