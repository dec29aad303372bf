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

    from calendar_app.gui.main_window import MainWindow

    paths = AppPaths.for_current_user()
    configure_logging(paths.log_file)
    log.info("calendar-app %s starting (demo=%s)", __version__, demo)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    app.setApplicationName("calendar-app")
    app.setApplicationDisplayName("Calendar")
    app.setApplicationVersion(__version__)
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
