"""Page 7: switch the integration on; Finish saves everything (all or nothing)."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QFormLayout, QLabel, QVBoxLayout

from calendar_app.domain.sign_in import AuthType, SignInMode
from calendar_app.gui.setup_wizard.common import KeepingPage, MessageLine, wrapped
from calendar_app.gui.setup_wizard.state import WizardState
from calendar_app.security.secret_store import SecretStore
from calendar_app.services.setup import SetupError, SetupPlan, apply_setup
from calendar_app.store.app_paths import AppPaths
from calendar_app.store.settings_file import Settings


class EnablePage(KeepingPage):
    def __init__(self, state: WizardState, paths: AppPaths, secrets: SecretStore) -> None:
        super().__init__()
        self.state = state
        self.paths = paths
        self.secrets = secrets
        self.saved: Settings | None = None
        self.setTitle("Enable")
        self.setSubTitle("Switch the calendar integration on. Finish saves everything and starts the sync.")
        self.enable_box = QCheckBox("Microsoft Exchange calendar integration")
        self.enable_box.setChecked(True)
        self.url_label = QLabel()
        self.summary = wrapped(selectable=True)
        self.message = MessageLine()
        form = QFormLayout()
        form.addRow("", self.enable_box)
        form.addRow("Exchange URL:", self.url_label)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.message)
        layout.addStretch(1)
        self.registerField("integrationEnabled", self.enable_box)

    def initializePage(self) -> None:
        self.url_label.setText(str(self.field("ewsUrl")))
        mode = "impersonation account" if self.field("impersonation") else "the rep's own account"
        self.summary.setText(
            f"Mailbox: {self.field('mailbox')}\n"
            f"Sign-in: {self.field('authType')} as {self.field('username')} ({mode})\n"
            f"Keystore: {self.state.keystore_summary}\n"
            f"Server version: {self.state.server_version or 'unknown'}\n\n"
            f"Settings file: {self.paths.settings_file}\n"
            f"Keystore folder: {self.paths.keystore_dir}\n"
            "Passwords: this computer's keyring")
        self.message.clear_message()

    def plan(self) -> SetupPlan:
        return SetupPlan(
            ews_url=str(self.field("ewsUrl")), mailbox=str(self.field("mailbox")),
            username=str(self.field("username")), password=str(self.field("password")),
            keystore_data=self.state.keystore_data, keystore_password=self.state.keystore_password,
            sign_in_mode=SignInMode.IMPERSONATION if self.field("impersonation") else SignInMode.OWN_ACCOUNT,
            auth_type=AuthType(str(self.field("authType"))), server_version=self.state.server_version,
            integration_enabled=self.enable_box.isChecked())

    def validatePage(self) -> bool:
        try:
            self.saved = apply_setup(self.plan(), self.paths, self.secrets)
        except SetupError as error:
            self.message.show_error(str(error))
            return False
        return True
