"""Page 4: a keystore trusting the server — created here from the certificate (alias, password twice,
"Trust this certificate?") or an existing .jks/.p12 uploaded with its password. Checked before Next."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from calendar_app.gui.setup_wizard.common import KeepingPage, MessageLine, wrapped
from calendar_app.gui.setup_wizard.state import WizardState
from calendar_app.logging_setup import register_secret
from calendar_app.security.certificate_details import common_name, sha256_fingerprint
from calendar_app.security.keystore import (
    KeystoreError,
    TrustedCertificate,
    check_new_password,
    create_truststore,
    normalise_alias,
    read_keystore,
)
from calendar_app.security.security_profile import read_keystore_file, validate_for_trust


def password_strength(password: str) -> str:
    """A plain hint, not a gate: keytool's own minimum is enforced separately."""
    if not password:
        return ""
    kinds = sum(any(test(c) for c in password) for test in (str.islower, str.isupper, str.isdigit,
                                                            lambda c: not c.isalnum()))
    if len(password) < 6:
        return "Too short: keytool needs at least 6 characters."
    if len(password) >= 14 and kinds >= 3:
        return "Strong password."
    if len(password) >= 10 and kinds >= 2:
        return "Fair password; longer with digits and symbols is stronger."
    return "Weak password: use 10 or more characters mixing letters, digits and symbols."


class KeystorePage(KeepingPage):
    def __init__(self, state: WizardState) -> None:
        super().__init__()
        self.state = state
        self.setTitle("Keystore")
        self.setSubTitle("The keystore holds the certificates this app trusts for Exchange — and nothing else.")
        self.create_radio = QRadioButton("Create a keystore from this certificate")
        self.upload_radio = QRadioButton("Upload an existing keystore… (.jks or .p12, e.g. made with keytool)")
        self.create_radio.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.create_radio)
        group.addButton(self.upload_radio)

        self.alias_edit = QLineEdit("exchange-server")
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm_edit = QLineEdit()
        self.confirm_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.strength_label = wrapped()
        self.password_edit.textChanged.connect(lambda text: self.strength_label.setText(password_strength(text)))
        self.create_box = QWidget()
        create_form = QFormLayout(self.create_box)
        create_form.addRow("Alias:", self.alias_edit)
        create_form.addRow("Keystore password:", self.password_edit)
        create_form.addRow("Repeat the password:", self.confirm_edit)
        create_form.addRow("", self.strength_label)

        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("/path/to/exchange.jks")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._choose_file)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(browse)
        self.upload_password_edit = QLineEdit()
        self.upload_password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.upload_box = QWidget()
        upload_form = QFormLayout(self.upload_box)
        upload_form.addRow("Keystore file:", path_row)
        upload_form.addRow("Its password:", self.upload_password_edit)

        self.message = MessageLine()
        layout = QVBoxLayout(self)
        layout.addWidget(self.create_radio)
        layout.addWidget(self.create_box)
        layout.addWidget(self.upload_radio)
        layout.addWidget(self.upload_box)
        layout.addWidget(wrapped("The keystore is copied into this app's data folder (readable by you only); its "
                                 "password is kept in this computer's keyring."))
        layout.addWidget(self.message)
        layout.addStretch(1)
        self.create_radio.toggled.connect(self._mode_changed)
        self._mode_changed()
        self.registerField("keystoreAlias", self.alias_edit)
        self.registerField("keystoreUploadPath", self.path_edit)
        self.trust_question: QMessageBox | None = None

    def _mode_changed(self) -> None:
        creating = self.create_radio.isChecked()
        self.create_box.setEnabled(creating)
        self.upload_box.setEnabled(not creating)
        self.message.clear_message()

    def _choose_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Upload a keystore", "",
                                              "Keystores (*.jks *.p12 *.pfx *.keystore);;All files (*)")
        if name:
            self.path_edit.setText(name)

    def validatePage(self) -> bool:
        try:
            if self.create_radio.isChecked():
                return self._create()
            return self._upload()
        except KeystoreError as error:
            self.message.show_error(str(error))
            return False

    def _create(self) -> bool:
        password = self.password_edit.text()
        alias = normalise_alias(self.alias_edit.text())
        check_new_password(password)
        if password != self.confirm_edit.text():
            raise KeystoreError("The two passwords differ. Type the same password twice.")
        if not self.state.certificates:
            raise KeystoreError("There is no certificate to trust: go Back and capture the server's certificate "
                                "or use a certificate file.")
        register_secret(password)
        leaf = self.state.certificates[0]
        if not self.ask_trust(leaf):
            self.message.show_warning("Not trusted: nothing was created. Check the certificate with your Exchange "
                                      "administrator, or go Back and capture it again.")
            return False
        data = create_truststore([TrustedCertificate(alias, leaf)], password)
        self._accept(data, password, f"New keystore with '{alias}' (SHA-256 {sha256_fingerprint(leaf)})")
        return True

    def ask_trust(self, certificate: x509.Certificate) -> bool:
        """keytool's "Trust this certificate? [no]:", with the fingerprint to compare by phone."""
        box = QMessageBox(QMessageBox.Icon.Question, "Trust this certificate?",
                          f"Owner: {common_name(certificate.subject)}\n"
                          f"Issuer: {common_name(certificate.issuer)}\n\n"
                          f"SHA-256 fingerprint:\n{sha256_fingerprint(certificate)}\n\n"
                          "Compare the fingerprint with the one your Exchange administrator gives you. "
                          "Trust this certificate?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        self.trust_question = box
        try:
            return box.exec() == QMessageBox.StandardButton.Yes
        finally:
            self.trust_question = None
            box.deleteLater()

    def _upload(self) -> bool:
        text = self.path_edit.text().strip()
        if not text:
            raise KeystoreError("Choose the keystore file to upload (Browse…).")
        password = self.upload_password_edit.text()
        register_secret(password)
        keystore = read_keystore_file(Path(text).expanduser(), password)
        warnings = validate_for_trust(keystore)
        data = Path(text).expanduser().read_bytes()
        entries = ", ".join(f"'{e.alias}'" for e in keystore.entries)
        self._accept(data, password, f"Uploaded {Path(text).name} ({keystore.store_type.value}, entries {entries})")
        if warnings:
            self.message.show_warning("\n".join(warnings))
        return True

    def _accept(self, data: bytes, password: str, summary: str) -> None:
        keystore = read_keystore(data, password)
        self.state.keystore_data = data
        self.state.keystore_password = password
        self.state.keystore_summary = summary
        self.state.trusted = keystore.trusted_certificates
        self.message.clear_message()
