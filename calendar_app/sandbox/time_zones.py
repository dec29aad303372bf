"""Windows time zone ids (what EWS carries) and the TimeZoneContext header.

Exchange reads a date-time without an offset in the zone of the request's TimeZoneContext (UTC without
one); `apply_time_zone_context` rewrites such values in a request body to UTC before any operation sees them."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

from lxml import etree

from calendar_app.sandbox.item_schema import DATETIME_ELEMENTS
from calendar_app.sandbox.soap import t

# Windows time zone ids (what EWS carries) → IANA, for the zones our users are likely to be in.
WINDOWS_ZONES = {
    "UTC": "UTC", "GMT Standard Time": "Europe/London", "Greenwich Standard Time": "Atlantic/Reykjavik",
    "W. Europe Standard Time": "Europe/Berlin", "Romance Standard Time": "Europe/Paris",
    "Central Europe Standard Time": "Europe/Budapest", "Central European Standard Time": "Europe/Warsaw",
    "E. Europe Standard Time": "Europe/Chisinau", "FLE Standard Time": "Europe/Kiev", "GTB Standard Time":
    "Europe/Bucharest", "Russian Standard Time": "Europe/Moscow", "Eastern Standard Time": "America/New_York",
    "Central Standard Time": "America/Chicago", "Mountain Standard Time": "America/Denver",
    "Pacific Standard Time": "America/Los_Angeles", "Tokyo Standard Time": "Asia/Tokyo",
    "China Standard Time": "Asia/Shanghai", "India Standard Time": "Asia/Kolkata",
    "Singapore Standard Time": "Asia/Singapore", "AUS Eastern Standard Time": "Australia/Sydney",
}
_NAIVE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


def zone_for_windows_id(name: str | None) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(WINDOWS_ZONES.get(name or "UTC", "UTC"))
    except zoneinfo.ZoneInfoNotFoundError:
        return dt.UTC


def _to_utc(text: str, zone: dt.tzinfo) -> str:
    local = dt.datetime.fromisoformat(text.strip()).replace(tzinfo=zone)
    return local.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def apply_time_zone_context(header: Any, body: Any) -> None:
    definition = header.find(f"{t('TimeZoneContext')}/{t('TimeZoneDefinition')}") if header is not None else None
    if definition is None:
        return
    zone = zone_for_windows_id(definition.get("Id"))
    for node in body.iter():
        if not isinstance(node.tag, str):
            continue
        local = etree.QName(node).localname
        if local in DATETIME_ELEMENTS and node.text and _NAIVE.match(node.text.strip()):
            node.text = _to_utc(node.text, zone)
        elif local == "CalendarView":
            for attribute in ("StartDate", "EndDate"):
                value = node.get(attribute)
                if value and _NAIVE.match(value.strip()):
                    node.set(attribute, _to_utc(value, zone))
        elif local == "Constant":
            value = node.get("Value") or ""
            comparison = node.getparent().getparent() if node.getparent() is not None else None
            uri = comparison.find(t("FieldURI")) if comparison is not None else None
            field = (uri.get("FieldURI") or "").split(":", 1)[-1] if uri is not None else ""
            if field in DATETIME_ELEMENTS and _NAIVE.match(value.strip()):
                node.set("Value", _to_utc(value, zone))
