"""Occurrences of a recurring calendar item, as Exchange expands them in a CalendarView.

Supported patterns: DailyRecurrence, WeeklyRecurrence, AbsoluteMonthlyRecurrence; ranges: NoEnd, EndDate,
Numbered. Occurrences keep the master's wall-clock time in its StartTimeZone (so a 10:00 meeting stays at
10:00 across a daylight-saving change). Relative monthly/yearly patterns, modified and deleted occurrences
are not expanded: such a master shows only its first occurrence.

An occurrence's id carries the master's id and the occurrence's start, so GetItem can rebuild it."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import struct
from collections.abc import Iterator
from typing import Any

from lxml import etree

from calendar_app.sandbox.soap import t
from calendar_app.sandbox.stored_item import StoredItem, format_datetime
from calendar_app.sandbox.time_zones import zone_for_windows_id

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_OCCURRENCES = 999
_OCCURRENCE_PREFIX = b"SBXO"


def occurrence_id(master_id: str, start: dt.datetime) -> str:
    return base64.b64encode(_OCCURRENCE_PREFIX + struct.pack(">q", int(start.timestamp()))
                            + base64.b64decode(master_id)).decode()


def parse_occurrence_id(item_id: str) -> tuple[str, dt.datetime] | None:
    try:
        raw = base64.b64decode(item_id, validate=True)
    except ValueError:
        return None
    if not raw.startswith(_OCCURRENCE_PREFIX) or len(raw) < 13:
        return None
    seconds = struct.unpack(">q", raw[4:12])[0]
    return base64.b64encode(raw[12:]).decode(), dt.datetime.fromtimestamp(seconds, dt.UTC)


def _zone(master: StoredItem) -> dt.tzinfo:
    element = master.elements.get("StartTimeZone")
    return zone_for_windows_id(element.get("Id") if element is not None else None)


def _local_dates(pattern: Any, first: dt.date) -> Iterator[dt.date]:
    kind = etree.QName(pattern).localname
    interval = int(pattern.findtext(t("Interval")) or "1")
    if kind == "DailyRecurrence":
        day = first
        while True:
            yield day
            day += dt.timedelta(days=interval)
    elif kind == "WeeklyRecurrence":
        days = {WEEKDAYS.index(d) for d in (pattern.findtext(t("DaysOfWeek")) or "").split() if d in WEEKDAYS}
        week_start = first - dt.timedelta(days=first.weekday())
        while True:
            for offset in range(7):
                day = week_start + dt.timedelta(days=offset)
                if day >= first and day.weekday() in days:
                    yield day
            week_start += dt.timedelta(weeks=interval)
    elif kind == "AbsoluteMonthlyRecurrence":
        day_of_month = int(pattern.findtext(t("DayOfMonth")) or "1")
        year, month = first.year, first.month
        while True:
            try:
                day = dt.date(year, month, day_of_month)
            except ValueError:
                day = None  # Exchange skips months without that day
            if day is not None and day >= first:
                yield day
            month += interval
            year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    else:
        yield first  # a pattern the sandbox does not expand: only the first occurrence


def occurrence_starts(master: StoredItem, until: dt.datetime) -> Iterator[dt.datetime]:
    """UTC starts of the master's occurrences, in order, up to `until`."""
    recurrence = master.elements.get("Recurrence")
    start = master.start
    if recurrence is None or start is None:
        return
    children = [c for c in recurrence if isinstance(c.tag, str)]
    if len(children) != 2:
        return
    pattern, range_element = children
    zone = _zone(master)
    local_start = start.astimezone(zone)
    first = dt.date.fromisoformat((range_element.findtext(t("StartDate")) or local_start.date().isoformat())[:10])
    kind = etree.QName(range_element).localname
    end_date = None
    count = MAX_OCCURRENCES
    if kind == "EndDateRecurrence":
        end_date = dt.date.fromisoformat((range_element.findtext(t("EndDate")) or "")[:10])
    elif kind == "NumberedRecurrence":
        count = min(int(range_element.findtext(t("NumberOfOccurrences")) or "1"), MAX_OCCURRENCES)
    for produced, day in enumerate(_local_dates(pattern, first)):
        if produced >= count or (end_date is not None and day > end_date):
            return
        occurrence = dt.datetime.combine(day, local_start.timetz().replace(tzinfo=None), zone).astimezone(dt.UTC)
        if occurrence > until:
            return
        yield occurrence


def occurrence_item(master: StoredItem, start: dt.datetime) -> StoredItem:
    """The occurrence starting at `start`, as Exchange shows it: the master's fields, its own times and id."""
    duration = (master.end or master.start or start) - (master.start or start)
    elements = {name: copy.deepcopy(element) for name, element in master.elements.items() if name != "Recurrence"}
    for name, value in (("Start", start), ("End", start + duration), ("OriginalStart", start)):
        element = etree.Element(t(name))
        element.text = format_datetime(value)
        elements[name] = element
    kind = etree.Element(t("CalendarItemType"))
    kind.text = "Occurrence"
    elements["CalendarItemType"] = kind
    return StoredItem(occurrence_id(master.item_id, start), master.folder, "CalendarItem", elements,
                      dict(master.extended), master.version, dict(master.field_versions), master.created)


def occurrences_in(master: StoredItem, window_start: dt.datetime, window_end: dt.datetime) -> list[StoredItem]:
    duration = (master.end or master.start or window_start) - (master.start or window_start)
    return [occurrence_item(master, start) for start in occurrence_starts(master, window_end)
            if start < window_end and start + duration > window_start]
