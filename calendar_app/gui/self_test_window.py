"""Self-test probe for Qt: start the GUI stack (offscreen unless QT_QPA_PLATFORM says otherwise),
show a window with the app's icon and render it."""

from __future__ import annotations

import os
import time

WAIT_FOR_WINDOW_SECONDS = 10.0


class QtProbeError(Exception):
    pass


def show_test_window() -> str:
    # Headless by default, so the check also works over SSH and in CI; must precede QApplication.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSize, qVersion
    from PySide6.QtWidgets import QApplication, QLabel

    from calendar_app.gui.app_icon import app_icon, resources_dir

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(["calendar-app", "--self-test"])
    icon = app_icon()
    if icon.isNull():
        raise QtProbeError(f"the app icon is missing from {resources_dir()}")
    icon_pixels = icon.pixmap(QSize(64, 64))
    if icon_pixels.isNull():
        raise QtProbeError("the app icon (SVG) does not render: the Qt SVG plugin is missing")
    window = QLabel("calendar-app self-test")
    window.setWindowTitle("Calendar self-test")
    window.setWindowIcon(icon)
    window.resize(320, 120)
    window.show()
    try:
        deadline = time.monotonic() + WAIT_FOR_WINDOW_SECONDS
        handle = window.windowHandle()
        while handle is None or not handle.isExposed():
            if time.monotonic() > deadline:
                raise QtProbeError(f"the window was not shown within {WAIT_FOR_WINDOW_SECONDS:.0f} s")
            app.processEvents()
            time.sleep(0.01)
            handle = window.windowHandle()
        picture = window.grab()
        if picture.isNull():
            raise QtProbeError("the window could not be rendered")
    finally:
        window.close()
        window.deleteLater()
        app.processEvents()
    return (f"Qt {qVersion()} on '{app.platformName()}': window {picture.width()}x{picture.height()} "
            f"shown and rendered, icon rendered")
