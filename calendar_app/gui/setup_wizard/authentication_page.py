"""Page 5: how this desktop signs in — the documented impersonation account, or the rep's own account."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
)

from calendar_app.gui.setup_wizard.common import WARNING_STYLE, MessageLine, RequiredTextPage, wrapped
from calendar_app.gui.setup_wizard.state import WizardDefaults
from calendar_app.logging_setup import register_secret

IMPERSONATION_NOTE = (
    "As documented: one service account acts for the rep's mailbox through Exchange impersonation. This account "
    "can act for every mailbox in the organisation, and its password will be stored in this computer's keyring — "
    "use it only on computers you, the administrator, control.")
OWN_ACCOUNT_NOTE = (
    "The rep signs in as themselves; no account on this computer can reach anybody else's mailbox. The safer "
    "choice for a rep's own desktop.")


class AuthenticationPage(RequiredTextPage):
    def __init__(self, defaults: WizardDefaults) -> None:
        super().__init__()
        self.setTitle("Authentication")
        self.setSubTitle("How this computer signs in to Exchange (the authentication profile).")
        self.impersonation_radio = QRadioButton("Impersonation account")
        self.own_account_radio = QRadioButton("The rep's own account")
        group = QButtonGroup(self)
        group.addButton(self.impersonation_radio)
        group.addButton(self.own_account_radio)
        (self.own_account_radio if defaults.sign_in_mode == "own-account" else self.impersonation_radio
         ).setChecked(True)
        self.mode_note = wrapped()
        self.type_combo = QComboBox()
        self.type_combo.addItems(["NTLM", "Basic"])
        self.type_combo.setCurrentText(defaults.auth_type)
        self.user_edit = QLineEdit(defaults.username)
        self.user_edit.setPlaceholderText("CONTOSO\\svc-calendar  or  svc-calendar@contoso.com")
        self.password_edit = QLineEdit(defaults.password)
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.show_password = QCheckBox("Show password")
        self.show_password.toggled.connect(self._toggle_echo)
        self.caps_hint = wrapped()
        self.caps_hint.setStyleSheet(WARNING_STYLE)
        self.password_edit.installEventFilter(self)
        form = QFormLayout()
        form.addRow("Type:", self.type_combo)
        form.addRow("User name:", self.user_edit)
        form.addRow("Password:", self.password_edit)
        form.addRow("", self.show_password)
        form.addRow("", self.caps_hint)
        self.demo_label = wrapped(defaults.demo_note, selectable=True)
        self.demo_label.setVisible(bool(defaults.demo_note))
        self.demo_label.setStyleSheet("background: #e8f0fe; padding: 6px; border-radius: 4px;")
        self.message = MessageLine()
        layout = QVBoxLayout(self)
        layout.addWidget(self.impersonation_radio)
        layout.addWidget(self.own_account_radio)
        layout.addWidget(self.mode_note)
        layout.addLayout(form)
        layout.addWidget(wrapped("The password goes to this computer's keyring when you press Finish; it is never "
                                 "written to a file or the log."))
        layout.addWidget(self.demo_label)
        layout.addWidget(self.message)
        layout.addStretch(1)
        self.impersonation_radio.toggled.connect(self._mode_changed)
        self._mode_changed()
        self.required_edits = (self.user_edit, self.password_edit)
        self.registerField("username*", self.user_edit)
        self.registerField("password*", self.password_edit)
        self.registerField("impersonation", self.impersonation_radio)
        self.registerField("authType", self.type_combo, "currentText")

    def _mode_changed(self) -> None:
        self.mode_note.setText(IMPERSONATION_NOTE if self.impersonation_radio.isChecked() else OWN_ACCOUNT_NOTE)

    def _toggle_echo(self, shown: bool) -> None:
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Qt cannot read the Caps Lock state; a capital typed without Shift (or a small one with it) gives it away.
        if watched is self.password_edit and isinstance(event, QKeyEvent) and event.type() == QEvent.Type.KeyPress:
            text = event.text()
            if text.isalpha():
                shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
                caps = text.isupper() != shift
                self.caps_hint.setText("Caps Lock seems to be on." if caps else "")
        return super().eventFilter(watched, event)

    def validatePage(self) -> bool:
        user = self.user_edit.text().strip()
        if "\\" not in user and "@" not in user:
            self.message.show_error(f"{user!r}: enter the user name as DOMAIN\\user or user@domain (UPN).")
            return False
        domain, _, name = user.partition("\\")
        if "\\" in user and (not domain or not name):
            self.message.show_error(f"{user!r}: both the domain and the user name are needed, e.g. CONTOSO\\svc.")
            return False
        self.user_edit.setText(user)
        register_secret(self.password_edit.text())
        self.message.clear_message()
        return True
