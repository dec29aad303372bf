"""Render resources/calendar-app.svg into the PNG sizes desktops want and a Windows .ico.

Run after changing the SVG (`.venv/bin/python packaging/render_icons.py`) and commit the output;
tests/packaging checks the committed files still match the SVG. macOS's .icns is made from the
same PNGs by packaging/macos/build-macos.sh with `iconutil`, which exists only on macOS.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

PROJECT = Path(__file__).resolve().parents[1]
SVG_FILE = PROJECT / "resources" / "calendar-app.svg"
ICONS_DIR = PROJECT / "resources" / "icons"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICON_NAME = "calendar-app"


def png_path(size: int, icons_dir: Path = ICONS_DIR) -> Path:
    """Where the freedesktop icon theme layout keeps one size (the .deb copies this tree as is)."""
    return icons_dir / "hicolor" / f"{size}x{size}" / "apps" / f"{ICON_NAME}.png"


def render(size: int, svg_file: Path = SVG_FILE) -> QImage:
    renderer = QSvgRenderer(str(svg_file))
    if not renderer.isValid():
        raise ValueError(f"{svg_file} is not an SVG that Qt can render")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    return image.convertToFormat(QImage.Format.Format_ARGB32)


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise RuntimeError("Qt could not encode a PNG")
    buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """An .ico holding PNG-compressed images (supported since Windows Vista): a 6-byte header,
    one 16-byte directory entry per image, then the PNG data."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = len(header) + 16 * len(pngs)
    entries, blobs = [], []
    for size, blob in sorted(pngs.items()):
        side = 0 if size >= 256 else size  # 0 means 256 in an ICO directory entry
        entries.append(struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(blob), offset))
        blobs.append(blob)
        offset += len(blob)
    return header + b"".join(entries) + b"".join(blobs)


def main() -> int:
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    pngs = {}
    for size in PNG_SIZES:
        target = png_path(size)
        target.parent.mkdir(parents=True, exist_ok=True)
        pngs[size] = png_bytes(render(size))
        target.write_bytes(pngs[size])
        print(f"wrote {target.relative_to(PROJECT)}")
    ico = ICONS_DIR / f"{ICON_NAME}.ico"
    ico.write_bytes(ico_bytes({size: pngs[size] for size in ICO_SIZES}))
    print(f"wrote {ico.relative_to(PROJECT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
