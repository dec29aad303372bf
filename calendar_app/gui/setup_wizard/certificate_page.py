"""Page 3: capture the chain the server presents (on a worker thread), show it like a certificate viewer's
Details tab, point out problems; save it as a .cer file, or use a certificate file instead."""

from __future__ import annotations

import threading
from pathlib import Path

from cryptography import x509
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from calendar_app.gui.setup_wizard.background import BackgroundJob, BusyIndicator, shared_pool
from calendar_app.gui.setup_wizard.common import KeepingPage, MessageLine, wrapped
from calendar_app.gui.setup_wizard.state import WizardState
from calendar_app.security.certificate_capture import capture_chain
from calendar_app.security.certificate_details import describe_certificate
from calendar_app.security.certificate_files import (
    CertificateFileError,
    ExportFormat,
    export_certificates,
    read_certificate_file,
    write_certificate_file,
)
from calendar_app.security.chain_assessment import ChainAssessment, assess_chain
from calendar_app.security.ews_url import parse_ews_url

_PROBLEM_BRUSH = QBrush(QColor("#b00020"))


def _capture_and_assess(url: str, cancel: threading.Event) -> tuple[str, tuple[x509.Certificate, ...],
                                                                     ChainAssessment]:
    endpoint = parse_ews_url(url)
    chain = capture_chain(endpoint)
    assessment = assess_chain(chain.certificates, endpoint.host)
    return (f"captured from {endpoint.address} ({chain.tls_version})", chain.certificates, assessment)


class CertificatePage(KeepingPage):
    def __init__(self, state: WizardState) -> None:
        super().__init__()
        self.state = state
        self.setTitle("Server certificate")
        self.setSubTitle("The certificate the server presents. Check it with your Exchange administrator before "
                         "you trust it on the next page.")
        self._job: BackgroundJob | None = None
        self.busy = BusyIndicator()
        self.busy.cancel_button.clicked.connect(self.cancel_capture)
        self.source_label = wrapped(selectable=True)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Field", "Value"])
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setWordWrap(True)
        self.message = MessageLine()
        self.capture_button = QPushButton("Capture again")
        self.save_button = QPushButton("Save as…")
        self.file_button = QPushButton("Use a certificate file…")
        self.capture_button.clicked.connect(self.start_capture)
        self.save_button.clicked.connect(self._choose_save_path)
        self.file_button.clicked.connect(self._choose_certificate_file)
        buttons = QHBoxLayout()
        buttons.addWidget(self.capture_button)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        buttons.addWidget(self.file_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.busy)
        layout.addWidget(self.source_label)
        layout.addWidget(self.message)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)

    # -- life cycle ------------------------------------------------------------------------
    def initializePage(self) -> None:
        url = str(self.field("ewsUrl"))
        if self.state.certificate_url != url or not self.state.certificates:
            self.state.certificates = ()
            self.state.certificate_url = url
            self.start_capture()
        else:
            self._show()

    def isComplete(self) -> bool:
        return bool(self.state.certificates) and self._job is None

    # -- capture ---------------------------------------------------------------------------
    @property
    def capturing(self) -> bool:
        return self._job is not None

    def start_capture(self) -> None:
        self.cancel_capture()
        url = str(self.field("ewsUrl"))
        job = BackgroundJob(lambda cancel: _capture_and_assess(url, cancel))
        job.signals.succeeded.connect(self._captured)
        job.signals.failed.connect(self._capture_failed)
        job.signals.done.connect(self._job_done)
        self._job = job
        self.message.clear_message()
        self.busy.start(f"Connecting to {url} and reading its certificate…")
        self._set_buttons(busy=True)
        self.completeChanged.emit()
        shared_pool().start(job)

    def cancel_capture(self) -> None:
        if self._job is None:
            return
        self._job.cancel.set()
        self._detach()
        self.message.show_warning("Capture cancelled. Press \"Capture again\" or use a certificate file.")

    def _detach(self) -> None:
        job, self._job = self._job, None
        if job is not None:
            job.signals.succeeded.disconnect(self._captured)
            job.signals.failed.disconnect(self._capture_failed)
            job.signals.done.disconnect(self._job_done)
        self.busy.stop()
        self._set_buttons(busy=False)
        self.completeChanged.emit()

    def _captured(self, result: object) -> None:
        assert isinstance(result, tuple)
        source, certificates, assessment = result
        self.state.certificates = certificates
        self.state.assessment = assessment
        self.state.certificate_source = source
        self._show()

    def _capture_failed(self, error: object) -> None:
        self.state.certificates = ()
        self.state.assessment = None
        self.tree.clear()
        self.source_label.setText("")
        self.message.show_error(f"The certificate could not be captured. {error}")

    def _job_done(self) -> None:
        self._detach()

    # -- files -----------------------------------------------------------------------------
    def use_certificate_file(self, path: Path) -> bool:
        try:
            certificates = read_certificate_file(path)
        except CertificateFileError as error:
            self.message.show_error(str(error))
            return False
        self.cancel_capture()
        host = parse_ews_url(str(self.field("ewsUrl"))).host
        self.state.certificates = tuple(certificates)
        self.state.assessment = assess_chain(certificates, host)
        self.state.certificate_source = f"read from {path}"
        self.state.certificate_url = str(self.field("ewsUrl"))
        self._show()
        self.completeChanged.emit()
        return True

    def save_certificate(self, path: Path, fmt: ExportFormat) -> bool:
        try:
            write_certificate_file(path, export_certificates(self.state.certificates, fmt))
        except (OSError, CertificateFileError, ValueError) as error:
            self.message.show_error(f"The certificate could not be saved to {path}: {error}")
            return False
        self.message.show_ok(f"Saved the server's certificate to {path}.")
        return True

    def _choose_save_path(self) -> None:
        base64_filter = "Base-64 encoded X.509 (*.cer)"
        name, chosen = QFileDialog.getSaveFileName(self, "Save the certificate", "exchange-server.cer",
                                                   f"{base64_filter};;DER encoded binary X.509 (*.cer *.der)")
        if name:
            self.save_certificate(Path(name), ExportFormat.PEM if chosen == base64_filter else ExportFormat.DER)

    def _choose_certificate_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Use a certificate file", "",
                                              "Certificates (*.cer *.crt *.pem *.der *.p7b);;All files (*)")
        if name:
            self.use_certificate_file(Path(name))

    # -- display ---------------------------------------------------------------------------
    def _set_buttons(self, *, busy: bool) -> None:
        self.capture_button.setEnabled(not busy)
        self.save_button.setEnabled(not busy and bool(self.state.certificates))

    def _show(self) -> None:
        self.tree.clear()
        self._set_buttons(busy=self._job is not None)
        assessment = self.state.assessment
        self.source_label.setText(f"Certificate chain {self.state.certificate_source}.")
        if assessment is not None:
            checks = QTreeWidgetItem(self.tree, ["Checks", ""])
            for name, value in assessment.rows():
                row = QTreeWidgetItem(checks, [name, value])
                if "DOES NOT MATCH" in value or value.startswith("no ") or "expired" in value.lower():
                    row.setForeground(1, _PROBLEM_BRUSH)
            checks.setExpanded(True)
            problems = assessment.warnings()
            if problems:
                self.message.show_warning("Before you trust this certificate:\n• " + "\n• ".join(problems))
            else:
                self.message.show_ok("The certificate matches the host name and is valid.")
        for index, certificate in enumerate(self.state.certificates):
            details = describe_certificate(certificate)
            role = "Server certificate" if index == 0 else f"Issuer certificate {index}"
            top = QTreeWidgetItem(self.tree, [role, details.subject_common_name])
            for name, value in details.rows():
                QTreeWidgetItem(top, [name, value])
            top.setExpanded(index == 0)
        self.tree.resizeColumnToContents(0)
        for column in (0, 1):
            self.tree.headerItem().setTextAlignment(column, Qt.AlignmentFlag.AlignLeft)
