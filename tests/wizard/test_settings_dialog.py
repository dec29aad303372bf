"""The Settings dialog: Save re-tests before applying; Cancel and a failed test change nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog, QDialogButtonBox
from pytestqt.qtbot import QtBot

from calendar_app.gui.settings_dialog import SettingsDialog
from calendar_app.sandbox import SandboxServer
from calendar_app.security.keystore import TrustedCertificate, create_truststore
from calendar_app.security.secret_store import KEYSTORE_PASSWORD, SecretStore
from calendar_app.services.setup import apply_setup, load_current_setup
from calendar_app.store.app_paths import AppPaths
from tests.wizard.conftest import DENIED_MAILBOX, saved_state
from tests.wizard.test_setup_and_cli import plan_for


@pytest.fixture
def open_dialog(qtbot: QtBot, sandbox: SandboxServer, app_paths: AppPaths,
                secret_service: SecretStore) -> Callable[[], SettingsDialog]:
    apply_setup(plan_for(sandbox), app_paths, secret_service)

    def make() -> SettingsDialog:
        dialog = SettingsDialog(app_paths, secret_service, load_current_setup(app_paths, secret_service))
        qtbot.addWidget(dialog)
        dialog.show()
        return dialog

    return make


def press(dialog: SettingsDialog, which: QDialogButtonBox.StandardButton) -> None:
    dialog.buttons.button(which).click()


def test_cancel_changes_nothing(open_dialog, app_paths: AppPaths, secret_service: SecretStore) -> None:
    before = saved_state(app_paths, secret_service)
    dialog = open_dialog()
    assert dialog.keystore_table.rowCount() == 1
    dialog.user_edit.setText("CONTOSO\\someone-else")
    dialog.password_edit.setText("Another-Pass-3")
    dialog.enabled_box.setChecked(False)
    press(dialog, QDialogButtonBox.StandardButton.Cancel)
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert saved_state(app_paths, secret_service) == before


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("password_edit", "Wrong-Pass-1", "401 — the password or user name is wrong"),
    ("mailbox_edit", DENIED_MAILBOX, "does not hold the ApplicationImpersonation role"),
])
def test_save_with_values_that_fail_the_test_changes_nothing(qtbot: QtBot, open_dialog, app_paths: AppPaths,
                                                            secret_service: SecretStore, field: str, value: str,
                                                            expected: str) -> None:
    before = saved_state(app_paths, secret_service)
    dialog = open_dialog()
    getattr(dialog, field).setText(value)
    press(dialog, QDialogButtonBox.StandardButton.Save)
    qtbot.waitUntil(lambda: not dialog.testing, timeout=30000)
    assert dialog.isVisible() and dialog.saved is None
    assert expected in dialog.message.text()
    assert saved_state(app_paths, secret_service) == before


def test_save_applies_a_new_keystore_after_a_passing_test(qtbot: QtBot, open_dialog, sandbox: SandboxServer,
                                                          tmp_path: Path, app_paths: AppPaths,
                                                          secret_service: SecretStore) -> None:
    upload = tmp_path / "renewed.p12"
    upload.write_bytes(create_truststore([TrustedCertificate("renewed", sandbox.tls.leaf)], "Renewed-Pass-4"))
    dialog = open_dialog()
    dialog.upload_path.setText(str(upload))
    dialog.upload_password.setText("Wrong-Pass-5")
    press(dialog, QDialogButtonBox.StandardButton.Save)
    assert "password" in dialog.message.text().lower() and not dialog.testing
    dialog.upload_password.setText("Renewed-Pass-4")
    press(dialog, QDialogButtonBox.StandardButton.Save)
    qtbot.waitUntil(lambda: dialog.saved is not None or not dialog.testing, timeout=30000)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10000)
    assert dialog.result() == QDialog.DialogCode.Accepted, dialog.message.text()
    assert secret_service.get(KEYSTORE_PASSWORD) == "Renewed-Pass-4"
    current = load_current_setup(app_paths, secret_service)
    assert [e.alias for e in current.keystore.entries] == ["renewed"]
