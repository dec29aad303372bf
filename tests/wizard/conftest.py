"""Fixtures for the wizard tests: a real sandbox Exchange (TLS, NTLM, impersonation), the real Secret
Service, the app's own folders in tmp_path, and helpers that click through the wizard like an admin."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox, QWizard
from pytestqt.qtbot import QtBot

from calendar_app.gui.setup_wizard import PageId, SetupWizard, WizardDefaults
from calendar_app.logging_setup import configure_logging
from calendar_app.sandbox import SandboxConfig, SandboxServer, SandboxUser
from calendar_app.sandbox.tls_material import load_or_create
from calendar_app.security.secret_store import EXCHANGE_PASSWORD, KEYSTORE_PASSWORD, SecretStore
from calendar_app.services.sync_session import secret_store_for
from calendar_app.store.app_paths import AppPaths
from tests.support.system import require

SERVICE = SandboxUser("CONTOSO", "svc-calendar", "Svc-Pass-1")
REP_MAILBOX = "rep@contoso.com"
DENIED_MAILBOX = "boss@contoso.com"  # the service account may not impersonate this one
KEYSTORE_PASSWORD_TEXT = "Keystore-Pass-9"
WAIT_MS = 30000


@pytest.fixture(autouse=True)
def secret_service(app_paths: AppPaths) -> Iterator[SecretStore]:
    """The real Secret Service, under the keyring entry of this test's own profile (as the app picks it)."""
    require(os.environ.get("CALENDAR_APP_TEST_KEYRING") == "1", "Secret Service (gnome-keyring under dbus)",
            "run through tests/run-with-keyring.sh (make test): apt-get install dbus gnome-keyring")
    store = secret_store_for(app_paths)
    for name in (EXCHANGE_PASSWORD, KEYSTORE_PASSWORD):
        store.delete(name)
    yield store
    for name in (EXCHANGE_PASSWORD, KEYSTORE_PASSWORD):
        store.delete(name)


@pytest.fixture(autouse=True)
def app_log(app_paths: AppPaths) -> Iterator[Path]:
    """The app's real log file, so the secrets test can read what was logged."""
    path = configure_logging(app_paths.log_file, level=logging.DEBUG)
    yield path
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_calendar_app", False):
            root.removeHandler(handler)
            handler.close()


@pytest.fixture(scope="session")
def seeded_tls(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wizard-sandbox-tls")
    load_or_create(folder, "127.0.0.1")
    return folder


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(users=(SERVICE,), mailboxes=(REP_MAILBOX, DENIED_MAILBOX),
                         denied_impersonations=frozenset({(SERVICE.account.lower(), DENIED_MAILBOX)}),
                         streaming_heartbeat_seconds=5.0)


@pytest.fixture
def sandbox(sandbox_config: SandboxConfig, tmp_path: Path, seeded_tls: Path) -> Iterator[SandboxServer]:
    state = tmp_path / "sandbox-state"
    shutil.copytree(seeded_tls, state / "tls")
    server = SandboxServer(sandbox_config, state).start()
    try:
        yield server
    finally:
        server.stop()
        assert not server.internal_errors, f"the sandbox crashed on: {server.internal_errors}"


@dataclass(frozen=True)
class SavedState:
    """Everything Finish may write: compared before and after a failed run."""

    settings: bytes | None
    keystore_files: tuple[str, ...]
    exchange_password: str | None
    keystore_password: str | None


def saved_state(paths: AppPaths, secrets: SecretStore) -> SavedState:
    settings = paths.settings_file.read_bytes() if paths.settings_file.exists() else None
    files = tuple(sorted(p.name for p in paths.keystore_dir.iterdir())) if paths.keystore_dir.exists() else ()
    return SavedState(settings, files, secrets.get(EXCHANGE_PASSWORD), secrets.get(KEYSTORE_PASSWORD))


@pytest.fixture
def make_wizard(qtbot: QtBot, app_paths: AppPaths, secret_service: SecretStore) -> Iterator[Callable[..., SetupWizard]]:
    made: list[SetupWizard] = []

    def make(defaults: WizardDefaults | None = None) -> SetupWizard:
        wizard = SetupWizard(app_paths, secret_service, defaults)
        qtbot.addWidget(wizard)
        wizard.show()
        made.append(wizard)
        return wizard

    yield make
    for wizard in made:
        wizard.stop_jobs()
        wizard.wait_for_jobs()


class WizardDriver:
    """Does what an admin does, page by page, and waits for the worker threads like an admin would."""

    def __init__(self, qtbot: QtBot, wizard: SetupWizard) -> None:
        self.qtbot = qtbot
        self.wizard = wizard

    @property
    def page(self) -> PageId:
        return self.wizard.current_page_id()

    def next(self) -> None:
        """Press Next as the admin does: only when it is enabled."""
        button = self.wizard.button(QWizard.WizardButton.NextButton)
        assert button.isEnabled() and button.isVisible(), f"Next is disabled on {self.page.name}"
        button.click()

    def can_go_next(self) -> bool:
        return self.wizard.button(QWizard.WizardButton.NextButton).isEnabled()

    def to_server(self, url: str, mailbox: str = REP_MAILBOX) -> None:
        assert self.page is PageId.WELCOME
        self.next()
        assert self.page is PageId.SERVER
        self.wizard.server_page.url_edit.setText(url)
        self.wizard.server_page.mailbox_edit.setText(mailbox)
        self.next()

    def wait_capture(self) -> None:
        assert self.page is PageId.CERTIFICATE
        self.qtbot.waitUntil(lambda: not self.wizard.certificate_page.capturing, timeout=WAIT_MS)

    def create_keystore(self, password: str = KEYSTORE_PASSWORD_TEXT, *, trust: bool = True) -> list[str]:
        """Fill the Create form, press Next and answer "Trust this certificate?". Returns the question's text."""
        assert self.page is PageId.KEYSTORE
        page = self.wizard.keystore_page
        page.create_radio.setChecked(True)
        page.password_edit.setText(password)
        page.confirm_edit.setText(password)
        asked: list[str] = []

        def answer() -> None:
            box = page.trust_question
            if box is None:
                QTimer.singleShot(20, answer)
                return
            asked.append(box.text())
            box.button(QMessageBox.StandardButton.Yes if trust else QMessageBox.StandardButton.No).click()

        QTimer.singleShot(0, answer)
        self.next()
        return asked

    def upload_keystore(self, path: Path, password: str) -> None:
        assert self.page is PageId.KEYSTORE
        page = self.wizard.keystore_page
        page.upload_radio.setChecked(True)
        page.path_edit.setText(str(path))
        page.upload_password_edit.setText(password)
        self.next()

    def sign_in(self, user: str = SERVICE.account, password: str = SERVICE.password) -> None:
        assert self.page is PageId.AUTHENTICATION
        page = self.wizard.authentication_page
        page.user_edit.setText(user)
        page.password_edit.setText(password)
        self.next()

    def wait_test(self) -> None:
        assert self.page is PageId.TEST
        self.qtbot.waitUntil(lambda: not self.wizard.test_page.running, timeout=WAIT_MS * 2)
