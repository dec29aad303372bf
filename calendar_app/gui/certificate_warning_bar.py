"""A banner over the calendar for certificate notices, with "Trust the new certificate…" for a change."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QToolBar, QWidget

from calendar_app.gui.setup_wizard.background import BackgroundJob, shared_pool
from calendar_app.services.certificate_watch import CertificateNotice, NoticeKind


class CertificateWarningBar(QToolBar):
    def __init__(self, notices: list[CertificateNotice], on_trust_new: Callable[[], None],
                 parent: QWidget | None = None) -> None:
        super().__init__("Certificate warnings", parent)
        self.setMovable(False)
        self.setObjectName("certificate-warning-bar")
        body = QWidget()
        body.setStyleSheet("background: #fff4e5; color: #5f3b00;")
        layout = QHBoxLayout(body)
        self.label = QLabel("\n".join(n.message for n in notices))
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.label, 1)
        self.trust_button = QPushButton("Trust the new certificate…")
        self.trust_button.clicked.connect(on_trust_new)
        self.trust_button.setVisible(any(n.kind is not NoticeKind.EXPIRING for n in notices))
        layout.addWidget(self.trust_button)
        self.addWidget(body)


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
