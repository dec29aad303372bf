"""Colours, fonts and the sync badge: one place so every view looks the same."""

from __future__ import annotations

import functools
import zlib

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen

BACKGROUND = QColor("#ffffff")
GRID_LINE = QColor("#e6e8eb")
GRID_HALF_LINE = QColor("#f1f2f4")
TEXT = QColor("#1f2328")
MUTED_TEXT = QColor("#656d76")
WEEKEND_BACKGROUND = QColor("#f8f9fa")
TODAY_ACCENT = QColor("#0b63ce")
TODAY_BACKGROUND = QColor("#f2f7fd")
NOW_LINE = QColor("#d92d20")
SELECTION = QColor("#0b63ce")
OUTSIDE_MONTH_TEXT = QColor("#a3aab3")

# Category colours: muted, distinguishable, dark enough for white badges, light tints for fills.
_CATEGORY_COLOURS = ("#2f6fde", "#0f8a6a", "#c2410c", "#7c3aed", "#b4236b", "#0e7490", "#a16207", "#4d7c0f")
DEFAULT_ACCENT = QColor("#2f6fde")

BADGE_STYLE: dict[str, tuple[str, str]] = {
    # state: (colour, glyph)
    "synced": ("#1a7f37", "✓"),
    "pending": ("#9a6700", "↑"),
    "failed": ("#cf222e", "!"),
    "conflict": ("#8250df", "⇄"),
}

BADGE_TOOLTIPS = {
    "synced": "Synced: this appointment is the same here and in Exchange.",
    "pending": "Pending: saved here, waiting to be sent to Exchange.",
    "failed": "Failed: Exchange did not accept the last change.",
    "conflict": "Conflict: changed here and in Exchange. Open it to choose which version to keep.",
}


def accent_for(categories: tuple[str, ...]) -> QColor:
    return _accent(categories[0].lower() if categories else "")


@functools.cache
def _accent(category: str) -> QColor:
    if not category:
        return QColor(DEFAULT_ACCENT)
    return QColor(_CATEGORY_COLOURS[zlib.crc32(category.encode("utf-8")) % len(_CATEGORY_COLOURS)])


def fill_for(accent: QColor) -> QColor:
    """A light tint of the accent that dark text reads well on."""
    return _tint(accent.rgb())


@functools.cache
def _tint(rgb: int) -> QColor:
    accent = QColor.fromRgb(rgb)
    return QColor(
        int(accent.red() * 0.16 + 255 * 0.84),
        int(accent.green() * 0.16 + 255 * 0.84),
        int(accent.blue() * 0.16 + 255 * 0.84),
    )


def badge_tooltip(state: str, last_error: str | None, *, sync_enabled: bool) -> str:
    if not sync_enabled:
        return "Saved in this calendar (Exchange integration is off)."
    text = BADGE_TOOLTIPS.get(state, state)
    if state == "failed" and last_error:
        text += f"\n{last_error}"
    return text


def paint_badge(painter: QPainter, centre: QPointF, radius: float, state: str) -> None:
    """A filled circle in the state's colour with its glyph; below 4 px just the dot.
    Leaves the painter's pen, brush and font changed (callers set their own)."""
    colour, glyph = _badge_parts(state)
    painter.setPen(_WHITE_OUTLINE)
    painter.setBrush(colour)
    painter.drawEllipse(centre, radius, radius)
    if radius < 4:
        return
    painter.setFont(_badge_font(max(7, int(radius * 1.45))))
    painter.setPen(_WHITE)
    painter.drawText(QRectF(centre.x() - radius, centre.y() - radius, 2 * radius, 2 * radius),
                     Qt.AlignmentFlag.AlignCenter, glyph)


_WHITE = QColor("#ffffff")
_WHITE_OUTLINE = QPen(_WHITE, 1.2)


@functools.cache
def _badge_parts(state: str) -> tuple[QColor, str]:
    colour, glyph = BADGE_STYLE.get(state, ("#656d76", "?"))
    return QColor(colour), glyph


@functools.cache
def _badge_font(pixels: int) -> QFont:
    font = QFont()
    font.setPixelSize(pixels)
    font.setBold(True)
    return font


def rounded(rect: QRectF, radius: float) -> QPainterPath:
    path = QPainterPath()
    path.addRoundedRect(rect, radius, radius)
    return path


def ui_font(point_delta: float = 0.0, *, bold: bool = False) -> QFont:
    font = QFont()
    if point_delta:
        font.setPointSizeF(max(6.0, font.pointSizeF() + point_delta))
    font.setBold(bold)
    return font
