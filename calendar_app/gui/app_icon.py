"""The app's icon, from the SVG in `resources/` (next to the package in a source checkout,
inside the bundle when frozen by PyInstaller)."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon

ICON_FILE_NAME = "calendar-app.svg"


def resources_dir() -> Path:
    bundle_dir = getattr(sys, "_MEIPASS", None)
    if bundle_dir is not None:
        return Path(bundle_dir) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def app_icon() -> QIcon:
    """The icon, or a null QIcon when the resources were not installed (a plain wheel install)."""
    path = resources_dir() / ICON_FILE_NAME
    return QIcon(str(path)) if path.is_file() else QIcon()
