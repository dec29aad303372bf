"""Composition root: paths, logging, settings, database, window. The only place that decides
which concrete parts the GUI gets."""

from __future__ import annotations

import gc
import logging
import sys
import threading
from typing import TYPE_CHECKING, Any

from calendar_app import __version__
from calendar_app.logging_setup import configure_logging, register_secret
from calendar_app.services.calendar_service import CalendarService
from calendar_app.store import Database, StoreError
from calendar_app.store.app_paths import AppPaths
from calendar_app.store.settings_file import Settings, load_settings

if TYPE_CHECKING:
    from calendar_app.sync.report import SyncReport

log = logging.getLogger(__name__)

DEMO_NOTE = ("Demo: the built-in sandbox Exchange runs inside this app. Its service account is {user} with the "
             "password {password}; it may impersonate {mailbox}. Nothing leaves this computer.")


def run_gui(*, demo: bool = False) -> int:
    from PySide6.QtWidgets import QApplication

    from calendar_app.gui.app_icon import apply_desktop_identity

    paths = demo_paths(AppPaths.for_current_user()) if demo else AppPaths.for_current_user()
    configure_logging(paths.log_file)
    log.info("calendar-app %s starting (demo=%s)", __version__, demo)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    app.setApplicationName("calendar-app")
    app.setApplicationDisplayName("Calendar")
    app.setApplicationVersion(__version__)
    apply_desktop_identity(app)
    if app.style().name().lower() != "fusion":  # re-creating the same style costs ~6 ms of the start
        app.setStyle("Fusion")
    # Move everything loaded so far out of the collector's way: full collections of these long-lived
    # objects, started from a worker thread, would otherwise pause the GUI thread too.
    gc.freeze()
    try:
        loaded = load_settings(paths.settings_file)
    except StoreError as error:
        from PySide6.QtWidgets import QMessageBox  # only here: its type costs ~1 ms of every start

        QMessageBox.critical(None, "Calendar", str(error))
        return 1
    shell = AppShell(paths, demo=demo)
    if demo:
        shell.start_demo()
    else:
        shell.open_calendar(loaded.settings, [loaded.problem] if loaded.problem else [])
    try:
        return int(app.exec())
    finally:
        shell.shut_down()


def demo_paths(paths: AppPaths) -> AppPaths:
    """The demo keeps its own settings, keystore, database and keyring entries: it never touches a real set-up."""
    root = paths.data_dir / "demo"
    return AppPaths(config_dir=root / "config", data_dir=root / "data", log_dir=paths.log_dir)


class AppShell:
    """Owns what lives as long as the app: the demo sandbox, the wizard, the window and its sync."""

    def __init__(self, paths: AppPaths, *, demo: bool) -> None:
        self.paths = paths
        self.demo = demo
        self._secrets: Any = None
        self._secrets_lock = threading.Lock()
        self.sandbox: Any = None
        self.wizard: Any = None
        self.window: Any = None
        self.sync: Any = None
        self.database: Database | None = None
        self.watcher: Any = None
        self.warning_bar: Any = None

    @property
    def secrets(self) -> Any:
        """This profile's keyring entries; keyring and the sync session's module (exchangelib) load on
        first use, so a window with sync off never waits for them."""
        with self._secrets_lock:  # the sync thread asks too
            if self._secrets is None:
                from calendar_app.services.sync_session import secret_store_for

                self._secrets = secret_store_for(self.paths)
            return self._secrets

    def start_demo(self) -> None:
        from calendar_app.gui.setup_wizard import WizardDefaults
        from calendar_app.sandbox import DEMO_MAILBOX, DEMO_SERVICE_ACCOUNT, SandboxConfig, SandboxServer

        register_secret(DEMO_SERVICE_ACCOUNT.password)
        self.sandbox = SandboxServer(SandboxConfig.demo(), self.paths.data_dir / "sandbox").start()
        log.info("demo sandbox at %s", self.sandbox.url)
        self.open_wizard(WizardDefaults(
            ews_url=self.sandbox.url, mailbox=DEMO_MAILBOX, username=DEMO_SERVICE_ACCOUNT.account,
            password=DEMO_SERVICE_ACCOUNT.password,
            demo_note=DEMO_NOTE.format(user=DEMO_SERVICE_ACCOUNT.account, password=DEMO_SERVICE_ACCOUNT.password,
                                       mailbox=DEMO_MAILBOX)))

    def open_wizard(self, defaults: Any = None, *, start_at: Any = None) -> Any:
        from PySide6.QtWidgets import QApplication

        from calendar_app.gui.setup_wizard import PageId, SetupWizard, WizardDefaults

        if defaults is None:
            current = load_settings(self.paths.settings_file).settings
            defaults = WizardDefaults(ews_url=current.ews_url, mailbox=current.mailbox, username=current.username,
                                      sign_in_mode=current.sign_in_mode, auth_type=current.auth_type)
        wizard = SetupWizard(self.paths, self.secrets, defaults, parent=self.window,
                             start_at=start_at if start_at is not None else PageId.WELCOME)
        self.wizard = wizard

        def finished(result: int) -> None:
            # its jobs were cancelled on close; they end on their own (shut_down waits for them at exit)
            if wizard.saved_settings is not None:
                self.open_calendar(wizard.saved_settings, ["The Exchange connection is set up."])
            elif self.window is None:
                QApplication.quit()

        wizard.finished.connect(finished)
        wizard.show()
        return wizard

    def open_calendar(self, settings: Settings, notices: list[str]) -> None:
        from calendar_app.gui.main_window import MainWindow

        self.stop_sync()
        if self.window is not None:
            self.window.close()
            self.window = None
        try:
            if self.database is None:
                self.database = Database.open(self.paths.database_file)
        except StoreError as error:
            from PySide6.QtWidgets import QMessageBox

            QMessageBox.critical(None, "Calendar", str(error))
            return
        source = None
        if settings.integration_enabled and settings.ews_url:
            from calendar_app.gui.sync_controller import SyncController

            self.sync = SyncController(self._live_sync_runner(), server_text=settings.ews_url)
            source = self.sync
        if self.demo:
            notices = [*notices, "Demo mode: this calendar syncs with the built-in sandbox Exchange."]
        window = MainWindow(CalendarService(self.database), settings, notices=notices, sync_source=source)
        self._add_exchange_menu(window)
        self.window = window
        window.show()
        if self.sync is not None:
            # Started once the window is on screen: the sync thread's first work (loading exchangelib,
            # the keyring, the keystore) would otherwise compete with the first paint for the interpreter.
            controller = self.sync
            window.after_first_paint(lambda: self._start_sync(controller, settings))

    def _start_sync(self, controller: Any, settings: Settings) -> None:
        if self.sync is controller:  # not replaced or stopped while the window was being shown
            controller.start()
            self.watch_certificate(settings)

    def watch_certificate(self, settings: Settings) -> None:
        """Warn in the window when the pinned certificate expires soon or the server presents another one."""
        from calendar_app.gui.certificate_warning_bar import (
            CertificateWarningBar,
            CertificateWatcher,
            show_above_calendar,
        )
        from calendar_app.services.certificate_watch import expiry_notices, presented_certificate_notice
        from calendar_app.services.setup import SetupError, load_current_setup

        def check() -> list[Any]:
            try:
                notices = expiry_notices(load_current_setup(self.paths, self.secrets).keystore)
            except SetupError:
                notices = []
            changed = presented_certificate_notice(settings.ews_url, settings.pinned_sha256)
            return [*notices, *([changed] if changed else [])]

        def show(notices: list[Any]) -> None:
            if self.window is not None:
                self.warning_bar = CertificateWarningBar(notices, self.trust_new_certificate)
                show_above_calendar(self.window, self.warning_bar)

        self.watcher = CertificateWatcher(check, show)

    def trust_new_certificate(self) -> None:
        from calendar_app.gui.setup_wizard import PageId, WizardDefaults
        from calendar_app.security.secret_store import EXCHANGE_PASSWORD, SecretStoreError

        current = load_settings(self.paths.settings_file).settings
        try:
            password = self.secrets.get(EXCHANGE_PASSWORD) or ""
        except SecretStoreError:
            password = ""
        self.open_wizard(WizardDefaults(ews_url=current.ews_url, mailbox=current.mailbox, username=current.username,
                                        password=password, sign_in_mode=current.sign_in_mode,
                                        auth_type=current.auth_type), start_at=PageId.CERTIFICATE)

    def _add_exchange_menu(self, window: Any) -> None:
        menu = window.menuBar().addMenu("E&xchange")
        # a lambda: triggered(bool) would otherwise arrive as the wizard defaults
        menu.addAction("Set up the Exchange connection…", lambda: self.open_wizard())  # noqa: PLW0108
        menu.addAction("Settings…", self.open_settings)

    def open_settings(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        from calendar_app.gui.settings_dialog import SettingsDialog
        from calendar_app.services.setup import SetupError, load_current_setup

        try:
            current = load_current_setup(self.paths, self.secrets)
        except SetupError as error:
            QMessageBox.information(self.window, "Settings", str(error))
            return
        dialog = SettingsDialog(self.paths, self.secrets, current, parent=self.window)
        if dialog.exec() and dialog.saved is not None:
            self.open_calendar(dialog.saved, ["The new settings passed the connection test and were saved."])

    def _live_sync_runner(self) -> Any:
        """What the sync thread runs: open this profile's session (keyring, keystore, Exchange
        account — all off the GUI thread, their modules too) and sync in real time until cancelled."""
        from collections.abc import Callable

        def run(cancel: threading.Event, local_change: threading.Event,
                on_report: Callable[[SyncReport], None]) -> None:
            from calendar_app.services.sync_session import SyncSession

            session = SyncSession.open(self.paths, secrets=self.secrets)  # a SessionError says what to fix
            try:
                session.run_live(cancel, local_change=local_change, on_report=on_report)
            finally:
                session.close()

        return run

    def stop_sync(self) -> None:
        if self.sync is not None:
            self.sync.stop()
            self.sync = None

    def shut_down(self) -> None:
        from calendar_app.gui.setup_wizard.background import shared_pool

        self.stop_sync()
        if self.wizard is not None:
            self.wizard.stop_jobs()
        shared_pool().waitForDone(30000)  # capture, test and certificate check end within their timeouts
        if self.sandbox is not None:
            self.sandbox.stop()


def run_self_test() -> int:
    """`calendar-app --self-test`: one line per check on stdout, 0 only if every check passed."""
    from calendar_app.exchange.self_test_probe import map_time_zone
    from calendar_app.gui.self_test_window import show_test_window
    from calendar_app.security.tls_self_test import loopback_handshake
    from calendar_app.services.self_test import (
        SelfTestCheck,
        check_database_in_temp_folder,
        check_keyring_backend,
        run_checks,
    )

    def exchangelib_time_zone() -> str:
        return str(map_time_zone())

    def tls_handshake() -> str:
        result = loopback_handshake()
        return (f"{result.tls_version} handshake on 127.0.0.1:{result.port} with a throw-away certificate "
                f"({result.cipher}, {result.openssl_version}); a stranger's certificate is refused")

    checks = [
        SelfTestCheck("qt-window", show_test_window),
        SelfTestCheck("tls", tls_handshake),
        SelfTestCheck("exchangelib", exchangelib_time_zone),
        SelfTestCheck("keyring", check_keyring_backend),
        SelfTestCheck("database", check_database_in_temp_folder),
    ]
    outcomes = run_checks(checks, lambda outcome: print(outcome.line(), flush=True))
    failed = [outcome.name for outcome in outcomes if not outcome.passed]
    if failed:
        print(f"calendar-app: self-test failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
