"""Wait for a top-level X11 window whose title starts with a text, then save a picture of it.

    python packaging/linux/grab_window.py --title Calendar --output ci-artifacts/main-window.png

ci-smoke.sh runs this next to the installed app under Xvfb (no window manager there). The window
is found with `xwininfo` (x11-utils) and grabbed through Qt's xcb platform, so no ImageMagick is
needed. Exit status 1 when no such window appears in time or the picture is blank.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

_TREE_LINE = re.compile(r'^\s*(0x[0-9a-f]+) "(.*)":.*?\s(\d+)x(\d+)\+', re.MULTILINE)


def find_window(title: str) -> int | None:
    tree = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True, check=True).stdout
    for match in _TREE_LINE.finditer(tree):
        window_id, name, width, height = match.group(1), match.group(2), int(match.group(3)), int(match.group(4))
        if not name.startswith(title) or width < 100 or height < 100:
            continue
        state = subprocess.run(["xwininfo", "-id", window_id], capture_output=True, text=True, check=True).stdout
        if "Map State: IsViewable" in state:
            return int(window_id, 16)
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--title", required=True)
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        print("grab_window: DISPLAY is not set; run under xvfb-run", file=sys.stderr)
        return 2

    deadline = time.monotonic() + args.timeout
    window = find_window(args.title)
    while window is None:
        if time.monotonic() > deadline:
            print(f"grab_window: no window titled '{args.title}…' appeared within {args.timeout:.0f} s",
                  file=sys.stderr)
            return 1
        time.sleep(0.25)
        window = find_window(args.title)
    # The window is mapped; give the app a moment to paint its first frame.
    time.sleep(1.5)

    os.environ["QT_QPA_PLATFORM"] = "xcb"
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication(sys.argv[:1])
    picture = app.primaryScreen().grabWindow(window)
    image = picture.toImage()
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    if picture.isNull() or len(colours) < 3:
        print(f"grab_window: the window {window:#x} grabbed blank ({len(colours)} colours)", file=sys.stderr)
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    if not picture.save(str(args.output), "PNG"):
        print(f"grab_window: could not write {args.output}", file=sys.stderr)
        return 1
    print(f"grab_window: window {window:#x} ({picture.width()}x{picture.height()}) saved to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
