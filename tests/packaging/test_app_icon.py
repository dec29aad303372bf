"""The app icon: the SVG renders, and the committed PNG sizes and the Windows .ico are what
packaging/render_icons.py makes of it today (re-run it after editing the SVG)."""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path
from types import ModuleType

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

PROJECT = Path(__file__).resolve().parents[2]


def render_icons() -> ModuleType:
    spec = importlib.util.spec_from_file_location("render_icons", PROJECT / "packaging" / "render_icons.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def alpha(image: QImage, x: int, y: int) -> int:
    return image.pixelColor(x, y).alpha()


def test_the_svg_renders_a_calendar_with_transparent_corners(qapp: QApplication) -> None:
    image = render_icons().render(256)
    assert image.width() == image.height() == 256
    assert alpha(image, 1, 1) == 0 and alpha(image, 254, 1) == 0  # rounded page, transparent around it
    assert alpha(image, 128, 128) == 255
    colours = {image.pixel(x, y) for x in range(0, 256, 4) for y in range(0, 256, 4)}
    assert len(colours) > 20


@pytest.mark.parametrize("size", [16, 24, 32, 48, 64, 128, 256, 512])
def test_each_committed_png_matches_a_fresh_render(qapp: QApplication, size: int) -> None:
    module = render_icons()
    committed = QImage(str(module.png_path(size))).convertToFormat(QImage.Format.Format_ARGB32)
    assert committed.width() == committed.height() == size
    fresh = module.render(size)
    difference = sum(
        abs(committed.pixelColor(x, y).alpha() - fresh.pixelColor(x, y).alpha())
        + abs(committed.pixelColor(x, y).red() - fresh.pixelColor(x, y).red())
        for x in range(0, size, max(1, size // 64)) for y in range(0, size, max(1, size // 64))
    )
    samples = len(range(0, size, max(1, size // 64))) ** 2
    assert difference / samples < 4, "the PNGs are out of date: run packaging/render_icons.py"


def test_the_windows_ico_holds_every_size_as_png(qapp: QApplication) -> None:
    data = (PROJECT / "resources" / "icons" / "calendar-app.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data, 0)
    assert (reserved, kind) == (0, 1)
    sizes = []
    for index in range(count):
        width, _height, _colours, _reserved, _planes, _bits, length, offset = struct.unpack_from(
            "<BBBBHHII", data, 6 + 16 * index)
        image = QImage.fromData(data[offset:offset + length], "PNG")
        assert not image.isNull()
        assert image.width() == (width or 256)
        sizes.append(image.width())
    assert sizes == [16, 24, 32, 48, 64, 128, 256]
