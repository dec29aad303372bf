"""Dates and times as the rep's locale writes them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QLocale, QTime

from calendar_app.domain import Appointment


def qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def pydate(day: QDate) -> date:
    return date(day.year(), day.month(), day.day())


def time_text(moment: datetime, locale: QLocale) -> str:
    return locale.toString(QTime(moment.hour, moment.minute), QLocale.FormatType.ShortFormat)


def date_text(day: date, locale: QLocale, fmt: QLocale.FormatType = QLocale.FormatType.LongFormat) -> str:
    return locale.toString(qdate(day), fmt)


def when_text(a: Appointment, zone: ZoneInfo, locale: QLocale) -> str:
    if a.is_all_day:
        first, last = a.start.date(), (a.end - timedelta(days=1)).date()
        day_format = "ddd d MMM yyyy"
        if first == last:
            return f"{locale.toString(qdate(first), day_format)} · all day"
        return f"{locale.toString(qdate(first), day_format)} – {locale.toString(qdate(last), day_format)} · all day"
    start = a.start.astimezone(zone)
    end = a.end.astimezone(zone)
    text = f"{locale.toString(qdate(start.date()), 'ddd d MMM yyyy')}  {time_text(start, locale)}–"
    if end.date() != start.date():
        text += f"{locale.toString(qdate(end.date()), 'ddd d MMM')} "
    return text + time_text(end, locale)


def zone_label(zone: ZoneInfo, moment: datetime) -> str:
    """'UTC+01:00' style label of the zone's offset at that moment."""
    offset = moment.astimezone(zone).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    minutes = abs(minutes)
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"
