"""Page 6: the step-by-step connection test, one line per step with its result and time."""

from __future__ import annotations

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from calendar_app.domain.sign_in import AuthType, SignInMode
from calendar_app.gui.setup_wizard.background import BackgroundJob, BusyIndicator, shared_pool
from calendar_app.gui.setup_wizard.common import KeepingPage, MessageLine
from calendar_app.gui.setup_wizard.state import WizardState
from calendar_app.services.connection_test import (
    ConnectionTestRequest,
    Outcome,
    StepId,
    StepResult,
    run_connection_test,
    server_version_of,
    step_title,
)

_COLOURS = {Outcome.PASSED: "#1b5e20", Outcome.FAILED: "#b00020", Outcome.SKIPPED: "#555555",
            Outcome.CANCELLED: "#8a5300"}
_MARKS = {Outcome.PASSED: "✓ passed", Outcome.FAILED: "✗ failed", Outcome.SKIPPED: "– skipped",
          Outcome.CANCELLED: "cancelled"}


class TestPage(KeepingPage):
    def __init__(self, state: WizardState) -> None:
        super().__init__()
        self.state = state
        self.setTitle("Connection test")
        self.setSubTitle("Every step the calendar sync will do, tried once against the server.")
        self._job: BackgroundJob | None = None
        self.busy = BusyIndicator()
        self.busy.cancel_button.clicked.connect(self.cancel_test)
        self.table = QTreeWidget()
        self.table.setRootIsDecorated(False)
        self.table.setHeaderLabels(["Step", "Result", "Time", "Details"])
        header = self.table.header()
        for column in (0, 1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.skip_write_probe = QCheckBox("Skip the write probe (do not create and delete a test item)")
        self.run_button = QPushButton("Run the test again")
        self.run_button.clicked.connect(self.start_test)
        self.message = MessageLine()
        row = QHBoxLayout()
        row.addWidget(self.skip_write_probe, 1)
        row.addWidget(self.run_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.busy)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addLayout(row)
        self.registerField("skipWriteProbe", self.skip_write_probe)
        self._rows: dict[StepId, QTreeWidgetItem] = {}

    def initializePage(self) -> None:
        self.start_test()

    def cleanupPage(self) -> None:
        self.cancel_test(quiet=True)

    def isComplete(self) -> bool:
        return self.state.test_passed and self._job is None

    @property
    def running(self) -> bool:
        return self._job is not None

    def request(self) -> ConnectionTestRequest:
        return ConnectionTestRequest(
            ews_url=str(self.field("ewsUrl")), mailbox=str(self.field("mailbox")),
            username=str(self.field("username")), password=str(self.field("password")),
            trusted_certificates=self.state.trusted,
            sign_in_mode=SignInMode.IMPERSONATION if self.field("impersonation") else SignInMode.OWN_ACCOUNT,
            auth_type=AuthType(str(self.field("authType"))),
            write_probe=not self.skip_write_probe.isChecked())

    def start_test(self) -> None:
        self.cancel_test(quiet=True)
        request = self.request()
        self.state.test_results = []
        self.state.test_passed = False
        self.state.server_version = ""
        self.table.clear()
        self._rows = {}
        for step in StepId:
            self._rows[step] = QTreeWidgetItem(self.table, [step_title(step, request), "waiting", "", ""])
        job = BackgroundJob(lambda cancel: run_connection_test(request, cancel))
        job.signals.progress.connect(self._step_done)
        job.signals.failed.connect(self._crashed)
        job.signals.done.connect(self._finished)
        self._job = job
        self.message.clear_message()
        self.busy.start("Testing the connection…")
        self.run_button.setEnabled(False)
        self.completeChanged.emit()
        shared_pool().start(job)

    def cancel_test(self, quiet: bool = False) -> None:
        if self._job is None:
            return
        self._job.cancel.set()
        self._detach()
        if not quiet:
            self.message.show_warning("Test cancelled. Press \"Run the test again\" when ready.")

    def _detach(self) -> None:
        job, self._job = self._job, None
        if job is not None:
            job.signals.progress.disconnect(self._step_done)
            job.signals.failed.disconnect(self._crashed)
            job.signals.done.disconnect(self._finished)
        self.busy.stop()
        self.run_button.setEnabled(True)
        self.completeChanged.emit()

    def _step_done(self, result: StepResult) -> None:
        self.state.test_results.append(result)
        row = self._rows[result.step]
        row.setText(0, result.title)
        row.setText(1, _MARKS[result.outcome])
        row.setText(2, f"{result.seconds:.2f} s" if result.outcome is not Outcome.SKIPPED else "")
        row.setText(3, result.detail)
        row.setToolTip(3, result.detail)
        row.setForeground(1, QBrush(QColor(_COLOURS[result.outcome])))
        if result.outcome is Outcome.FAILED:
            self.message.show_error(f"{result.title} failed: {result.advice}")

    def _crashed(self, error: object) -> None:
        self.message.show_error(f"The test stopped unexpectedly: {error}")

    def _finished(self) -> None:
        results = self.state.test_results
        failed = [r for r in results if r.outcome in (Outcome.FAILED, Outcome.CANCELLED)]
        complete = len(results) == len(StepId)
        self.state.test_passed = complete and not failed
        self.state.server_version = server_version_of(results)
        for row in self._rows.values():
            if row.text(1) == "waiting":
                row.setText(1, "not run")
        if self.state.test_passed:
            self.message.show_ok("All steps passed. Press Next to switch the integration on.")
        self._detach()
