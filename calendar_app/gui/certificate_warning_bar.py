"""A banner over the calendar for certificate notices, with "Trust the new certificate…" for a change."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMainWindow, QPushButton, QVBoxLayout, QWidget

from calendar_app.gui.setup_wizard.background import BackgroundJob, shared_pool
from calendar_app.services.certificate_watch import CertificateNotice, NoticeKind


class CertificateWarningBar(QFrame):
    def __init__(self, notices: list[CertificateNotice], on_trust_new: Callable[[], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("certificate-warning-bar")
        self.setStyleSheet("#certificate-warning-bar { background: #fff4e5; border-bottom: 1px solid #e0b878; }"
                           " QLabel { color: #5f3b00; }")
        layout = QHBoxLayout(self)
        self.label = QLabel("\n".join(n.message for n in notices))
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.label, 1)
        self.trust_button = QPushButton("Trust the new certificate…")
        self.trust_button.clicked.connect(on_trust_new)
        self.trust_button.setVisible(any(n.kind is not NoticeKind.EXPIRING for n in notices))
        layout.addWidget(self.trust_button)


def show_above_calendar(window: QMainWindow, bar: CertificateWarningBar) -> None:
    """Put the banner above the window's central widget (a tool bar could hide the button in its overflow)."""
    central = window.takeCentralWidget()  # taken, not deleted
    container = QWidget()
    layout = QVBoxLayout(container)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    layout.addWidget(bar)
    if central is not None:
        layout.addWidget(central, 1)
    window.setCentralWidget(container)


class CertificateWatcher(QObject):
    """Runs `check()` (which may touch the network) on the thread pool and hands its notices to
    `show` on the GUI thread."""

    def __init__(self, check: Callable[[], list[CertificateNotice]],
                 show: Callable[[list[CertificateNotice]], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._show = show
        self.notices: list[CertificateNotice] | None = None
        self.job = BackgroundJob(lambda cancel: check())
        self.job.signals.succeeded.connect(self._checked)
        shared_pool().start(self.job)

    @property
    def done(self) -> bool:
        return self.notices is not None

    def _checked(self, notices: object) -> None:
        self.notices = list(notices) if isinstance(notices, list) else []
        if self.notices:
            self._show(self.notices)
