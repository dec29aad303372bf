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
    if not categories:
        return QColor(DEFAULT_ACCENT)
    index = zlib.crc32(categories[0].lower().encode("utf-8")) % len(_CATEGORY_COLOURS)
    return QColor(_CATEGORY_COLOURS[index])


def fill_for(accent: QColor) -> QColor:
    """A light tint of the accent that dark text reads well on."""
    tint = QColor(accent)
    tint.setAlpha(255)
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
    colour, glyph = BADGE_STYLE.get(state, ("#656d76", "?"))
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(QPen(QColor("#ffffff"), 1.2))
    painter.setBrush(QColor(colour))
    painter.drawEllipse(centre, radius, radius)
    painter.setFont(_badge_font(max(7, int(radius * 1.45))))
    painter.setPen(QColor("#ffffff"))
    painter.drawText(QRectF(centre.x() - radius, centre.y() - radius, 2 * radius, 2 * radius),
                     Qt.AlignmentFlag.AlignCenter, glyph)
    painter.restore()


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
