"""`calendar-app --demo`: the sandbox starts in-process, the wizard opens pre-filled with the demo credentials
shown, every step runs against the sandbox, and after Finish the calendar opens and syncs."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QWizard
from pytestqt.qtbot import QtBot

from calendar_app.app import AppShell, demo_paths
from calendar_app.gui.main_window import MainWindow
from calendar_app.gui.setup_wizard import PageId
from calendar_app.sandbox import DEMO_MAILBOX, DEMO_SERVICE_ACCOUNT
from calendar_app.services.sync_session import secret_store_for
from calendar_app.services.sync_status import ConnectionState
from calendar_app.store.app_paths import AppPaths
from tests.wizard.conftest import WizardDriver


@pytest.fixture
def shell(qtbot: QtBot, app_paths: AppPaths) -> Iterator[AppShell]:
    paths = demo_paths(app_paths)
    running = AppShell(paths, demo=True)
    try:
        yield running
    finally:
        running.shut_down()
        for name in ("exchange-password", "keystore-password"):
            secret_store_for(paths).delete(name)
        if running.window is not None:
            running.window.close()


def test_demo_sets_up_against_the_sandbox_and_opens_a_syncing_calendar(qtbot: QtBot, shell: AppShell) -> None:
    shell.start_demo()
    wizard = shell.wizard
    qtbot.addWidget(wizard)
    sandbox = shell.sandbox
    sandbox.add_calendar_item(DEMO_MAILBOX, (
        '<t:CalendarItem xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">'
        "<t:Subject>Demo customer visit</t:Subject><t:Start>2027-05-04T08:00:00Z</t:Start>"
        "<t:End>2027-05-04T09:00:00Z</t:End></t:CalendarItem>"))
    driver = WizardDriver(qtbot, wizard)
    driver.next()
    assert driver.page is PageId.SERVER
    assert wizard.server_page.url_edit.text() == sandbox.url
    assert wizard.server_page.mailbox_edit.text() == DEMO_MAILBOX
    driver.next()
    driver.wait_capture()
    driver.next()
    driver.create_keystore()
    assert driver.page is PageId.AUTHENTICATION
    note = wizard.authentication_page.demo_label
    assert not note.isHidden()
    assert DEMO_SERVICE_ACCOUNT.account in note.text() and DEMO_SERVICE_ACCOUNT.password in note.text()
    assert wizard.authentication_page.user_edit.text() == DEMO_SERVICE_ACCOUNT.account
    driver.next()
    driver.wait_test()
    assert wizard.test_page.isComplete(), wizard.test_page.message.text()
    driver.next()
    assert driver.page is PageId.ENABLE
    wizard.button(QWizard.WizardButton.FinishButton).click()
    qtbot.waitUntil(lambda: isinstance(shell.window, MainWindow), timeout=10000)
    qtbot.addWidget(shell.window)
    assert shell.sync is not None
    qtbot.waitUntil(lambda: shell.sync.current_status().state is ConnectionState.ONLINE, timeout=30000)
    with contextlib.closing(sqlite3.connect(shell.paths.database_file)) as database:
        subjects = [row[0] for row in database.execute("SELECT subject FROM appointments")]
    assert subjects == ["Demo customer visit"]
