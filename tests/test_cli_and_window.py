from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pytestqt.qtbot import QtBot

from calendar_app import __version__
from calendar_app.cli import main
from calendar_app.domain import new_appointment
from calendar_app.services.calendar_service import CalendarService
from calendar_app.store import Database
from calendar_app.store.app_paths import AppPaths
from calendar_app.store.settings_file import Settings


def test_console_script_prints_the_version() -> None:
    script = Path(sys.executable).with_name("calendar-app")
    out = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"calendar-app {__version__}"


def test_module_help_lists_the_commands() -> None:
    out = subprocess.run([sys.executable, "-m", "calendar_app", "--help"], capture_output=True, text=True,
                         check=True).stdout
    assert "commands:" in out
    for command in ("gui", "paths"):
        assert command in out


def test_paths_honours_xdg(app_paths: AppPaths, capsys: object) -> None:
    assert main(["paths"]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert str(app_paths.settings_file) in out and str(app_paths.database_file) in out


def test_main_window_lists_the_local_calendar(qtbot: QtBot, tmp_path: Path) -> None:
    from calendar_app.gui.calendar.navigation import ViewMode
    from calendar_app.gui.main_window import MainWindow

    service = CalendarService(Database.open(tmp_path / "c.sqlite3"))
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    service.save(new_appointment(subject="Demo with Northwind", start=soon, end=soon + timedelta(hours=1),
                                 timezone="UTC"))
    window = MainWindow(service, Settings())
    qtbot.addWidget(window)
    window.show()
    window.set_view(ViewMode.AGENDA)  # the next 30 days
    model = window.agenda.model()
    assert model.rowCount() == 1
    assert model.index(0, 1).data() == "Demo with Northwind"
    assert model.index(0, 3).data() == "local"  # integration off: no sync state to show
    assert "local calendar" in window.connection_label.text()
