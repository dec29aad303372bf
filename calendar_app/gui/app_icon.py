"""The app's icon, from the SVG in `resources/` (next to the package in a source checkout,
inside the bundle when frozen by PyInstaller)."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QGuiApplication, QIcon

ICON_FILE_NAME = "calendar-app.svg"
# resources/<id>.desktop and <id>.metainfo.xml; a company shipping the app puts its own domain here.
DESKTOP_FILE_ID = "com.example.CalendarApp"


def resources_dir() -> Path:
    bundle_dir = getattr(sys, "_MEIPASS", None)
    if bundle_dir is not None:
        return Path(bundle_dir) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def app_icon() -> QIcon:
    """The icon, or a null QIcon when the resources were not installed (a plain wheel install)."""
    path = resources_dir() / ICON_FILE_NAME
    return QIcon(str(path)) if path.is_file() else QIcon()


def apply_desktop_identity(app: QGuiApplication) -> None:
    """The window icon, and the menu entry's id: Wayland compositors match windows to their
    .desktop file (and so to the icon in the dock) by this id; on X11 WM_CLASS "calendar-app"
    matches the entry's StartupWMClass."""
    app.setDesktopFileName(DESKTOP_FILE_ID)
    app.setWindowIcon(app_icon())
