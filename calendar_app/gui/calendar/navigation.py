"""Which days a view shows, how Today/previous/next move, and the period's title — following the
locale's first day of the week and working days."""

from __future__ import annotations

import enum
from datetime import date, timedelta

from PySide6.QtCore import QLocale

from calendar_app.gui.calendar.formatting import qdate

AGENDA_DAYS = 30


class ViewMode(enum.IntEnum):
    DAY = 1
    WORK_WEEK = 2
    WEEK = 3
    MONTH = 4
    AGENDA = 5


def week_start(anchor: date, locale: QLocale) -> date:
    first = locale.firstDayOfWeek().value  # 1 = Monday ... 7 = Sunday
    return anchor - timedelta(days=(anchor.isoweekday() - first) % 7)


def visible_days(mode: ViewMode, anchor: date, locale: QLocale) -> list[date]:
    if mode == ViewMode.DAY:
        return [anchor]
    if mode in (ViewMode.WEEK, ViewMode.WORK_WEEK):
        start = week_start(anchor, locale)
        days = [start + timedelta(days=i) for i in range(7)]
        if mode == ViewMode.WORK_WEEK:
            working = {d.value for d in locale.weekdays()} or {1, 2, 3, 4, 5}
            days = [d for d in days if d.isoweekday() in working] or days
        return days
    if mode == ViewMode.MONTH:
        start = week_start(anchor.replace(day=1), locale)
        return [start + timedelta(days=i) for i in range(42)]
    return [anchor + timedelta(days=i) for i in range(AGENDA_DAYS)]


def step(mode: ViewMode, anchor: date, direction: int) -> date:
    if mode == ViewMode.DAY:
        return anchor + timedelta(days=direction)
    if mode in (ViewMode.WEEK, ViewMode.WORK_WEEK):
        return anchor + timedelta(days=7 * direction)
    if mode == ViewMode.MONTH:
        month_index = anchor.year * 12 + anchor.month - 1 + direction
        year, month = divmod(month_index, 12)
        return date(year, month + 1, min(anchor.day, days_in_month(year, month + 1)))
    return anchor + timedelta(days=AGENDA_DAYS * direction)


def days_in_month(year: int, month: int) -> int:
    # Not calendar.monthrange: the calendar module loads locale, ~2 ms of every start.
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    return (first_of_next - timedelta(days=1)).day


def title(mode: ViewMode, anchor: date, days: list[date], locale: QLocale) -> str:
    if mode == ViewMode.DAY:
        return locale.toString(qdate(anchor), "dddd d MMMM yyyy")
    if mode == ViewMode.MONTH:
        return locale.toString(qdate(anchor), "MMMM yyyy")
    first, last = days[0], days[-1]
    if first.year != last.year:
        return f"{locale.toString(qdate(first), 'd MMM yyyy')} – {locale.toString(qdate(last), 'd MMM yyyy')}"
    if first.month != last.month:
        return f"{locale.toString(qdate(first), 'd MMM')} – {locale.toString(qdate(last), 'd MMM yyyy')}"
    return f"{first.day} – {locale.toString(qdate(last), 'd MMMM yyyy')}"
