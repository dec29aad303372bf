"""Settings: the saved set-up as editable profiles — Security profile (keystore), Authentication profile,
Microsoft Exchange. Save re-runs the connection test with the new values (on a worker thread) and only
applies them when it passes; Cancel changes nothing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from calendar_app.domain.sign_in import AuthType, SignInMode
from calendar_app.gui.setup_wizard.background import BackgroundJob, BusyIndicator, shared_pool
from calendar_app.gui.setup_wizard.common import MessageLine, wrapped
from calendar_app.logging_setup import register_secret
from calendar_app.security.keystore import KeystoreEntry, KeystoreError, read_keystore
from calendar_app.security.secret_store import SecretStore
from calendar_app.security.security_profile import installed_keystore_path, read_keystore_file, validate_for_trust
from calendar_app.services.connection_test import (
    ConnectionTestRequest,
    Outcome,
    StepResult,
    run_connection_test,
    server_version_of,
)
from calendar_app.services.setup import CurrentSetup, SetupError, SetupPlan, apply_setup
from calendar_app.store.app_paths import AppPaths
from calendar_app.store.settings_file import Settings


class SettingsDialog(QDialog):
    def __init__(self, paths: AppPaths, secrets: SecretStore, current: CurrentSetup,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.paths = paths
        self.secrets = secrets
        self.current = current
        self.saved: Settings | None = None
        self._job: BackgroundJob | None = None
        self._results: list[StepResult] = []
        self._pending: SetupPlan | None = None
        self.setWindowTitle("Settings")
        self.resize(900, 520)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._security_tab(), "Security profile")
        self.tabs.addTab(self._authentication_tab(), "Authentication profile")
        self.tabs.addTab(self._exchange_tab(), "Microsoft Exchange")
        self.busy = BusyIndicator()
        self.busy.cancel_button.clicked.connect(self.cancel_test)
        self.message = MessageLine()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.busy)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    # -- tabs ------------------------------------------------------------------------------
    def _security_tab(self) -> QWidget:
        tab = QWidget()
        path = installed_keystore_path(self.paths.keystore_dir)
        self.keystore_table = QTableWidget(0, 4)
        # expiry before the long fingerprint, so it is never scrolled out of sight
        self.keystore_table.setHorizontalHeaderLabels(["Alias", "Type", "Expires", "SHA-256 fingerprint"])
        self.keystore_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.keystore_table.horizontalHeader().setStretchLastSection(True)
        self.keystore_table.verticalHeader().hide()
        self._show_entries(self.current.keystore.entries)
        self.upload_path = QLineEdit()
        self.upload_path.setPlaceholderText("keep the current keystore")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._choose_keystore)
        row = QHBoxLayout()
        row.addWidget(self.upload_path, 1)
        row.addWidget(browse)
        self.upload_password = QLineEdit()
        self.upload_password.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout()
        form.addRow("Upload another keystore:", row)
        form.addRow("Its password:", self.upload_password)
        layout = QVBoxLayout(tab)
        layout.addWidget(wrapped(f"Current keystore: {path}"))
        layout.addWidget(self.keystore_table, 1)
        layout.addLayout(form)
        return tab

    def _authentication_tab(self) -> QWidget:
        tab = QWidget()
        settings = self.current.settings
        self.impersonation_radio = QRadioButton("Impersonation account")
        self.own_account_radio = QRadioButton("The rep's own account")
        group = QButtonGroup(tab)
        group.addButton(self.impersonation_radio)
        group.addButton(self.own_account_radio)
        (self.own_account_radio if settings.sign_in_mode == SignInMode.OWN_ACCOUNT.value
         else self.impersonation_radio).setChecked(True)
        self.type_combo = QComboBox()
        self.type_combo.addItems([t.value for t in AuthType])
        self.type_combo.setCurrentText(settings.auth_type)
        self.user_edit = QLineEdit(settings.username)
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setPlaceholderText("unchanged — type to set a new password")
        form = QFormLayout()
        form.addRow("Type:", self.type_combo)
        form.addRow("User name:", self.user_edit)
        form.addRow("Set password:", self.password_edit)
        layout = QVBoxLayout(tab)
        layout.addWidget(self.impersonation_radio)
        layout.addWidget(self.own_account_radio)
        layout.addLayout(form)
        layout.addStretch(1)
        return tab

    def _exchange_tab(self) -> QWidget:
        tab = QWidget()
        settings = self.current.settings
        self.enabled_box = QCheckBox("Microsoft Exchange calendar integration")
        self.enabled_box.setChecked(settings.integration_enabled)
        self.url_edit = QLineEdit(settings.ews_url)
        self.mailbox_edit = QLineEdit(settings.mailbox)
        form = QFormLayout(tab)
        form.addRow("", self.enabled_box)
        form.addRow("Exchange URL:", self.url_edit)
        form.addRow("Rep's mailbox:", self.mailbox_edit)
        return tab

    def _show_entries(self, entries: tuple[KeystoreEntry, ...]) -> None:
        self.keystore_table.setRowCount(0)
        for entry in entries:
            row = self.keystore_table.rowCount()
            self.keystore_table.insertRow(row)
            alias, kind, fingerprint, expires = entry.row()
            for column, text in enumerate((alias, kind, expires, fingerprint)):
                self.keystore_table.setItem(row, column, QTableWidgetItem(text))

    def _choose_keystore(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Upload a keystore", "",
                                              "Keystores (*.jks *.p12 *.pfx *.keystore);;All files (*)")
        if name:
            self.upload_path.setText(name)

    # -- saving ----------------------------------------------------------------------------
    @property
    def testing(self) -> bool:
        return self._job is not None

    def plan(self) -> SetupPlan:
        """The edited set-up; raises KeystoreError for an unusable upload."""
        base = self.current.plan()
        keystore_data, keystore_password = base.keystore_data, base.keystore_password
        if self.upload_path.text().strip():
            keystore_password = self.upload_password.text()
            register_secret(keystore_password)
            path = Path(self.upload_path.text().strip()).expanduser()
            keystore = read_keystore_file(path, keystore_password)
            validate_for_trust(keystore)
            keystore_data = path.read_bytes()
        password = self.password_edit.text() or base.password
        register_secret(password)
        return replace(
            base, ews_url=self.url_edit.text().strip(), mailbox=self.mailbox_edit.text().strip().lower(),
            username=self.user_edit.text().strip(), password=password, keystore_data=keystore_data,
            keystore_password=keystore_password,
            sign_in_mode=SignInMode.IMPERSONATION if self.impersonation_radio.isChecked() else SignInMode.OWN_ACCOUNT,
            auth_type=AuthType(self.type_combo.currentText()), integration_enabled=self.enabled_box.isChecked())

    def save(self) -> None:
        try:
            plan = self.plan()
        except KeystoreError as error:
            self.tabs.setCurrentIndex(0)
            self.message.show_error(str(error))
            return
        if not plan.integration_enabled:
            self._apply(plan)  # nothing will connect: there is nothing to test
            return
        request = ConnectionTestRequest(
            ews_url=plan.ews_url, mailbox=plan.mailbox, username=plan.username, password=plan.password,
            trusted_certificates=read_keystore(plan.keystore_data, plan.keystore_password).trusted_certificates,
            sign_in_mode=plan.sign_in_mode, auth_type=plan.auth_type, write_probe=False)
        self._results = []
        job = BackgroundJob(lambda cancel: run_connection_test(request, cancel))
        # slots on this dialog (a QObject of the GUI thread), so the worker's signals arrive queued
        job.signals.progress.connect(self._step_done)
        job.signals.failed.connect(self._test_crashed)
        job.signals.done.connect(self._tested)
        self._pending = plan
        self._job = job
        self.buttons.setEnabled(False)
        self.message.clear_message()
        self.busy.start("Testing the new settings before saving them…")
        shared_pool().start(job)

    def cancel_test(self) -> None:
        if self._job is not None:
            self._job.cancel.set()

    def _step_done(self, result: StepResult) -> None:
        self._results.append(result)

    def _test_crashed(self, error: object) -> None:
        self.message.show_error(f"The test stopped: {error}")

    def _tested(self) -> None:
        plan = self._pending
        self._job = None
        self.busy.stop()
        self.buttons.setEnabled(True)
        failed = [r for r in self._results if r.outcome in (Outcome.FAILED, Outcome.CANCELLED)]
        if failed or not self._results or plan is None:
            first = failed[0] if failed else None
            self.message.show_error(
                f"Not saved — {first.title}: {first.advice or first.detail}" if first is not None
                else "Not saved — the connection test did not run.")
            return
        self._apply(replace(plan, server_version=server_version_of(self._results) or plan.server_version))

    def _apply(self, plan: SetupPlan) -> None:
        try:
            self.saved = apply_setup(plan, self.paths, self.secrets)
        except SetupError as error:
            self.message.show_error(str(error))
            return
        self.accept()

    def reject(self) -> None:
        self.cancel_test()
        super().reject()
