"""The Authentication page: which sign-in is which, the password toggle and the Caps Lock hint."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from calendar_app.gui.setup_wizard.authentication_page import AuthenticationPage
from calendar_app.gui.setup_wizard.state import WizardDefaults


def test_explains_the_choice_shows_the_password_and_hints_at_caps_lock(qtbot: QtBot) -> None:
    page = AuthenticationPage(WizardDefaults())
    qtbot.addWidget(page)
    page.show()
    assert "every mailbox" in page.mode_note.text() and "keyring" in page.mode_note.text()
    page.own_account_radio.setChecked(True)
    assert "safer" in page.mode_note.text()
    assert page.password_edit.echoMode() is QLineEdit.EchoMode.Password
    page.show_password.setChecked(True)
    assert page.password_edit.echoMode() is QLineEdit.EchoMode.Normal
    qtbot.keyClick(page.password_edit, "A")  # a capital without Shift
    assert page.caps_hint.text() == "Caps Lock seems to be on."
    qtbot.keyClick(page.password_edit, "A", Qt.KeyboardModifier.ShiftModifier)
    assert page.caps_hint.text() == ""
    assert page.password_edit.text() == "AA"


def test_user_name_must_be_domain_user_or_upn(qtbot: QtBot) -> None:
    page = AuthenticationPage(WizardDefaults(username="svc-calendar", password="x"))
    qtbot.addWidget(page)
    assert not page.validatePage()
    assert "DOMAIN\\user or user@domain" in page.message.text()
    page.user_edit.setText("CONTOSO\\svc-calendar")
    assert page.validatePage()
