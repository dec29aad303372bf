"""Start-up: the way to the first paint loads only what the window needs, and work that can wait
(the sync thread, the certificate check) waits for that paint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pytestqt.qtbot import QtBot

from calendar_app.services.calendar_service import CalendarService
from calendar_app.store.settings_file import Settings

from .conftest import BERLIN, NOW

REPO_ROOT = Path(__file__).resolve().parents[2]

# What `calendar-app` (no arguments) runs up to `window.show()`, minus Qt's event loop.
WINDOW_PATH = """
import json, sys
from pathlib import Path
from calendar_app.cli import build_parser
build_parser().parse_args([])
from calendar_app.app import AppShell
from calendar_app.store.app_paths import AppPaths
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from calendar_app.gui.main_window import MainWindow
from calendar_app.services.calendar_service import CalendarService
from calendar_app.store import Database
from calendar_app.store.settings_file import Settings
folder = Path(sys.argv[1])
shell = AppShell(AppPaths(folder / "config", folder / "data", folder / "log"), demo=False)
window = MainWindow(CalendarService(Database.open(folder / "calendar.sqlite3")), Settings())
print(json.dumps(sorted(sys.modules)))
"""
# Each of these alone costs tens of milliseconds (exchangelib several hundred) and none is needed to
# show the calendar: they load on first use, or on the sync thread.
NOT_BEFORE_THE_WINDOW = ("exchangelib", "requests", "lxml", "keyring", "jks", "icalendar",
                         "calendar_app.exchange", "calendar_app.sync.engine", "calendar_app.services.sync_session",
                         "calendar_app.sandbox.server", "calendar_app.gui.setup_wizard",
                         "calendar_app.gui.calendar.editor_dialog", "calendar_app.gui.calendar.conflict_dialog")


def test_the_way_to_the_window_loads_no_network_keyring_or_dialog_modules(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", WINDOW_PATH, str(tmp_path)], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.splitlines()[-1])
    early = [name for name in loaded if name.startswith(NOT_BEFORE_THE_WINDOW)]
    assert early == []


def test_after_first_paint_waits_for_the_paint_then_runs_at_once(qtbot: QtBot, service: CalendarService) -> None:
    from calendar_app.gui.main_window import MainWindow

    window = MainWindow(service, Settings(), zone=BERLIN, now=lambda: NOW)
    qtbot.addWidget(window)
    calls: list[str] = []
    window.after_first_paint(lambda: calls.append("before"))
    assert calls == []  # not while the window is being built
    window.show()
    qtbot.waitUntil(lambda: calls == ["before"], timeout=10000)
    window.after_first_paint(lambda: calls.append("after"))  # painted already: the next turn of the loop
    qtbot.waitUntil(lambda: calls == ["before", "after"], timeout=10000)
    qtbot.wait(50)
    assert calls == ["before", "after"]  # each callback once


def test_after_first_paint_still_runs_when_no_paint_comes(qtbot: QtBot, service: CalendarService) -> None:
    from calendar_app.gui.main_window import MainWindow

    window = MainWindow(service, Settings(), zone=BERLIN, now=lambda: NOW)
    qtbot.addWidget(window)
    calls: list[str] = []
    window.after_first_paint(lambda: calls.append("ran"))  # never shown, e.g. a start minimised
    qtbot.waitUntil(lambda: calls == ["ran"], timeout=10000)
