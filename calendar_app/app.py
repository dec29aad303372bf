"""Composition root: paths, logging, settings, database, window. The only place that decides
which concrete parts the GUI gets."""

from __future__ import annotations

import logging
import sys

from calendar_app import __version__
from calendar_app.logging_setup import configure_logging
from calendar_app.services.calendar_service import CalendarService
from calendar_app.store import Database, StoreError
from calendar_app.store.app_paths import AppPaths
from calendar_app.store.settings_file import load_settings

log = logging.getLogger(__name__)


def run_gui(*, demo: bool = False) -> int:
    from PySide6.QtWidgets import QApplication, QMessageBox

    from calendar_app.gui.app_icon import apply_desktop_identity
    from calendar_app.gui.main_window import MainWindow

    paths = AppPaths.for_current_user()
    configure_logging(paths.log_file)
    log.info("calendar-app %s starting (demo=%s)", __version__, demo)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    app.setApplicationName("calendar-app")
    app.setApplicationDisplayName("Calendar")
    app.setApplicationVersion(__version__)
    apply_desktop_identity(app)
    try:
        loaded = load_settings(paths.settings_file)
        database = Database.open(paths.database_file)
    except StoreError as error:
        QMessageBox.critical(None, "Calendar", str(error))
        return 1
    app.setStyle("Fusion")
    window = MainWindow(CalendarService(database), loaded.settings, notices=_notices(loaded.problem, demo))
    window.show()
    return int(app.exec())


def _notices(settings_problem: str | None, demo: bool) -> list[str]:
    notices = [settings_problem] if settings_problem else []
    if demo:
        notices.append("Demo mode: the built-in sandbox Exchange is not part of this version yet; "
                       "the calendar works locally.")
    return notices


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
