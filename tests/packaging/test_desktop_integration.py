"""The menu entry and AppStream metadata the .deb installs: valid, and pointing at each other,
at the command and at the icon."""

from __future__ import annotations

import configparser
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from calendar_app.gui.app_icon import DESKTOP_FILE_ID
from tests.support.system import require_program

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
APP_ID = "com.example.CalendarApp"
DESKTOP_FILE = RESOURCES / f"{APP_ID}.desktop"
METAINFO_FILE = RESOURCES / f"{APP_ID}.metainfo.xml"


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DESKTOP_FILE, encoding="utf-8")
    return parser["Desktop Entry"]


def test_the_desktop_file_validates() -> None:
    validator = require_program("desktop-file-validate", "desktop-file-utils")
    result = subprocess.run([validator, str(DESKTOP_FILE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr


def test_the_desktop_file_starts_the_command_with_the_installed_icon() -> None:
    entry = desktop_entry()
    assert entry["Exec"] == "calendar-app" and entry["TryExec"] == "calendar-app"
    assert entry["Name"] == "Calendar" and entry["Terminal"] == "false"
    assert (RESOURCES / f"{entry['Icon']}.svg").is_file()
    assert (RESOURCES / "icons" / "hicolor" / "48x48" / "apps" / f"{entry['Icon']}.png").is_file()


def test_the_metainfo_is_well_formed_and_names_the_desktop_file() -> None:
    component = ET.parse(METAINFO_FILE).getroot()  # noqa: S314 - our own file, not untrusted input
    assert component.tag == "component" and component.get("type") == "desktop-application"
    assert component.findtext("id") == APP_ID
    assert DESKTOP_FILE_ID == APP_ID  # the running app names the same entry (Wayland app id)
    launchable = component.find("launchable")
    assert launchable is not None and launchable.text == DESKTOP_FILE.name
    assert component.findtext("provides/binary") == desktop_entry()["Exec"]
    assert component.findtext("icon") == desktop_entry()["Icon"]


def test_the_metainfo_validates_with_appstream() -> None:
    appstreamcli = require_program("appstreamcli", "appstream")
    result = subprocess.run([appstreamcli, "validate", "--no-net", str(METAINFO_FILE)], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
