"""Appointment ↔ exchangelib CalendarItem, field by field.

Two named extended properties travel with every item we write: the local UUID (how a create whose
answer was lost is found again, and how our own items are told apart from other clients') and the
IANA zone name. Exchange stores a Windows zone ("W. Europe Standard Time"), which stands for many
IANA zones; the IANA name we wrote is used on the way back while it still agrees with the Windows
zone the server holds, so an Outlook user who moves the meeting to another zone wins.

Items written by other clients can hold values our domain refuses (an empty subject, an end equal
to the start, a 300-character location); they are mapped to the nearest valid appointment, and
the merge base is that mapped version, so the adjustment itself is never pushed back.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from exchangelib import Body, CalendarItem, EWSDate, EWSDateTime, EWSTimeZone, ExtendedProperty
from exchangelib.errors import UnknownTimeZone
from exchangelib.properties import Attendee, Mailbox

from calendar_app.domain.appointment import (
    MAX_ATTENDEES,
    MAX_BODY,
    MAX_CATEGORIES,
    MAX_CATEGORY,
    MAX_LOCATION,
    MAX_REMINDER_MINUTES,
    MAX_SUBJECT,
    Appointment,
    FreeBusy,
    is_valid_email,
)
from calendar_app.domain.errors import ValidationError
from calendar_app.domain.remote_errors import ItemRejected
from calendar_app.domain.remote_items import RemoteItem, uuid_for_foreign_item

log = logging.getLogger(__name__)

# Our own property set: a fixed GUID so every installation reads what every other one wrote.
PROPERTY_SET_ID = "3a7c5c1e-6a8f-4c43-9d0b-5f2a0c1e7b64"
LOCAL_UUID_FIELD = "calendar_app_local_uuid"
TIMEZONE_FIELD = "calendar_app_timezone"
NO_SUBJECT = "(no subject)"
_XML_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class UnreadableItem(ValueError):
    """Exchange sent an item whose values cannot be read (exchangelib turns a value it cannot parse,
    e.g. a start time that is not a date-time, into None and only logs a warning)."""


class LocalUuidProperty(ExtendedProperty):
    property_set_id = PROPERTY_SET_ID
    property_name = "CalendarAppLocalUuid"
    property_type = "String"


class TimeZoneNameProperty(ExtendedProperty):
    property_set_id = PROPERTY_SET_ID
    property_name = "CalendarAppTimeZone"
    property_type = "String"


def _register_properties() -> None:
    """Class-level and process-wide in exchangelib: done once, at import."""
    registered = {f.name for f in CalendarItem.FIELDS}
    if LOCAL_UUID_FIELD not in registered:
        CalendarItem.register(LOCAL_UUID_FIELD, LocalUuidProperty)
    if TIMEZONE_FIELD not in registered:
        CalendarItem.register(TIMEZONE_FIELD, TimeZoneNameProperty)


_register_properties()

_WHEN_ITEM_FIELDS = ("start", "end", "is_all_day", "_start_timezone", "_end_timezone", TIMEZONE_FIELD)

# Appointment field → the CalendarItem fields that carry it (for UpdateItem's SetItemField list).
ITEM_FIELDS: dict[str, tuple[str, ...]] = {
    "subject": ("subject",),
    "location": ("location",),
    "body": ("body",),
    "start": _WHEN_ITEM_FIELDS,
    "end": _WHEN_ITEM_FIELDS,
    "timezone": _WHEN_ITEM_FIELDS,
    "is_all_day": _WHEN_ITEM_FIELDS,
    "required_attendees": ("required_attendees",),
    "optional_attendees": ("optional_attendees",),
    "reminder_minutes": ("reminder_is_set", "reminder_minutes_before_start"),
    "free_busy": ("legacy_free_busy_status",),
    "is_private": ("sensitivity",),
    "categories": ("categories",),
}

# What we read back: everything the mapping uses, nothing more (fewer bytes per item on a pull).
READ_FIELDS: tuple[str, ...] = (
    "subject", "location", "body", "start", "end", "is_all_day", "required_attendees", "optional_attendees",
    "reminder_is_set", "reminder_minutes_before_start", "legacy_free_busy_status", "sensitivity", "categories",
    "type", "_start_timezone", LOCAL_UUID_FIELD, TIMEZONE_FIELD,
)


def item_field_names(appointment_fields: Iterable[str]) -> list[str]:
    """The CalendarItem fields to send for these Appointment fields, each once, in a stable order."""
    wanted: list[str] = []
    for name in appointment_fields:
        for item_field in ITEM_FIELDS[name]:
            if item_field not in wanted:
                wanted.append(item_field)
    return wanted


def ews_timezone(name: str) -> EWSTimeZone:
    try:
        return EWSTimeZone(name)
    except UnknownTimeZone:
        # An IANA zone Windows has no name for (rare, e.g. a new one): its UTC offset still holds
        # the instants; we keep the IANA name in our extended property.
        log.warning("no Windows time zone for %s; sending UTC", name)
        return EWSTimeZone("UTC")


def item_values(appointment: Appointment) -> dict[str, Any]:
    """Every CalendarItem attribute that carries the appointment (keyword arguments for
    CalendarItem(...), or attributes to set before an update). All-day appointments go as dates
    with an inclusive last day, which exchangelib turns into the zone's midnights."""
    zone = ews_timezone(appointment.timezone)
    if appointment.is_all_day:
        start: Any = EWSDate.from_date(appointment.start.date())
        end: Any = EWSDate.from_date((appointment.end - dt.timedelta(days=1)).date())
    else:
        start = _ews_datetime(appointment.start, zone)
        end = _ews_datetime(appointment.end, zone)
    return {
        "subject": appointment.subject,
        "location": appointment.location or None,
        "body": Body(appointment.body) if appointment.body else None,
        "start": start,
        "end": end,
        "is_all_day": appointment.is_all_day,
        # exchangelib fills the zone fields from start/end only while they are unset
        "_start_timezone": zone,
        "_end_timezone": zone,
        TIMEZONE_FIELD: appointment.timezone,
        "required_attendees": _attendees(appointment.required_attendees),
        "optional_attendees": _attendees(appointment.optional_attendees),
        "reminder_is_set": appointment.reminder_minutes is not None,
        "reminder_minutes_before_start": appointment.reminder_minutes or 0,
        "legacy_free_busy_status": appointment.free_busy.value,
        "sensitivity": "Private" if appointment.is_private else "Normal",
        "categories": list(appointment.categories) or None,
        LOCAL_UUID_FIELD: appointment.uuid,
    }


def apply_appointment(item: CalendarItem, appointment: Appointment, fields: Sequence[str]) -> None:
    """Set the item attributes that carry `fields` (Appointment field names) from the appointment."""
    values = item_values(appointment)
    for name in item_field_names(fields):
        setattr(item, name, values[name])


def _ews_datetime(moment: dt.datetime, zone: EWSTimeZone) -> EWSDateTime:
    converted = moment.astimezone(zone)
    return converted if isinstance(converted, EWSDateTime) else EWSDateTime.from_datetime(converted)


def new_calendar_item(account: Any, appointment: Appointment, folder: Any = None) -> CalendarItem:
    return CalendarItem(account=account, folder=folder or account.calendar, **item_values(appointment))


def _attendees(addresses: Sequence[str]) -> list[Attendee] | None:
    return [Attendee(mailbox=Mailbox(email_address=a), response_type="Unknown") for a in addresses] or None


# ---------------------------------------------------------------- reading
def to_remote_item(item: CalendarItem, fallback_zone: str) -> RemoteItem:
    local_uuid, appointment = appointment_from_item(item, fallback_zone)
    return RemoteItem(item_id=item.id, change_key=item.changekey, local_uuid=local_uuid, appointment=appointment)


def readable_remote_item(item: CalendarItem, fallback_zone: str) -> RemoteItem:
    """`to_remote_item`, with an item whose values cannot be read reported as one rejected item."""
    try:
        return to_remote_item(item, fallback_zone)
    except (UnreadableItem, ValidationError) as error:
        raise ItemRejected(f"Exchange sent the appointment '{item.subject or item.id}' with values this app cannot "
                           f"read ({error}); it is left unchanged here. Open it in Outlook to check it.") from error


def appointment_from_item(item: CalendarItem, fallback_zone: str = "UTC") -> tuple[str | None, Appointment]:
    """(our local UUID, or None for another client's item; the appointment). `fallback_zone` is
    used when Exchange tells no zone for the item."""
    written = _text(getattr(item, LOCAL_UUID_FIELD, None)).strip()
    local_uuid = written if written and _is_uuid(written) else None
    uuid = local_uuid or uuid_for_foreign_item(str(item.id))
    return local_uuid, to_appointment(item, uuid, fallback_zone)


def to_appointment(item: CalendarItem, uuid: str, fallback_zone: str) -> Appointment:
    zone_name = _zone_name(item, fallback_zone)
    zone = ZoneInfo(zone_name)
    is_all_day = bool(item.is_all_day)
    start, end = _times(item, zone, is_all_day)
    required = _addresses(item.required_attendees)
    optional = [a for a in _addresses(item.optional_attendees) if a.lower() not in {r.lower() for r in required}]
    room = MAX_ATTENDEES - len(required)
    reminder: int | None = None
    if item.reminder_is_set:
        reminder = min(max(int(item.reminder_minutes_before_start or 0), 0), MAX_REMINDER_MINUTES)
    return Appointment(
        uuid=uuid,
        subject=_clean(item.subject, MAX_SUBJECT).strip() or NO_SUBJECT,
        location=_clean(item.location, MAX_LOCATION),
        body=_clean(item.body, MAX_BODY),
        start=start,
        end=end,
        timezone=zone_name,
        is_all_day=is_all_day,
        required_attendees=tuple(required[:MAX_ATTENDEES]),
        optional_attendees=tuple(optional[:max(room, 0)]),
        reminder_minutes=reminder,
        free_busy=_free_busy(item.legacy_free_busy_status),
        is_private=item.sensitivity in ("Private", "Confidential"),
        categories=_categories(item.categories),
    )


def _zone_name(item: CalendarItem, fallback_zone: str) -> str:
    server_zone = getattr(item, "_start_timezone", None)
    written = _text(getattr(item, TIMEZONE_FIELD, None))
    if written and _known_zone(written):
        if server_zone is None:
            return written
        try:
            if _windows_zone_id(written) == server_zone.ms_id:
                return written
        except UnknownTimeZone:
            return written
    if server_zone is not None and _known_zone(server_zone.key):
        return str(server_zone.key)
    return fallback_zone


def _times(item: CalendarItem, zone: ZoneInfo, is_all_day: bool) -> tuple[dt.datetime, dt.datetime]:
    start, end = item.start, item.end
    if not isinstance(start, dt.date):
        raise UnreadableItem("it has no readable start time")
    if end is not None and not isinstance(end, dt.date):
        end = None
    if isinstance(start, dt.date) and not isinstance(start, dt.datetime):
        # exchangelib turns an all-day item's times into dates, the end inclusive
        start_at = dt.datetime.combine(start, dt.time(0), tzinfo=zone)
        end_date = end if isinstance(end, dt.date) and not isinstance(end, dt.datetime) else start
        end_at = dt.datetime.combine(end_date + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    else:
        start_at = _in_zone(start, zone)
        end_at = _in_zone(end, zone) if end is not None else start_at
        if is_all_day:  # all-day without dates (another client's odd values): whole days around them
            start_at = start_at.replace(hour=0, minute=0, second=0, microsecond=0)
            if end_at.time() != dt.time(0):
                end_at = end_at.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    if end_at <= start_at:  # Exchange allows zero-length items; the domain needs a duration
        end_at = start_at + (dt.timedelta(days=1) if is_all_day else dt.timedelta(minutes=1))
    return start_at, end_at


def _in_zone(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The same instant as a stdlib datetime in `zone` (EWSDateTime/EWSTimeZone compare
    differently). Done by the stdlib: EWSDateTime.astimezone costs about 30 times as much, which
    was most of the mapping's time on a first sync of thousands of items."""
    offset = moment.utcoffset()
    assert offset is not None, "Exchange date-times always carry a zone"
    utc = dt.datetime(moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second,
                      moment.microsecond, tzinfo=dt.UTC) - offset
    return utc.astimezone(zone)


@functools.lru_cache(maxsize=64)
def _windows_zone_id(iana_name: str) -> str:
    """The Windows zone Exchange stores for an IANA zone (raises UnknownTimeZone, not cached)."""
    return str(EWSTimeZone(iana_name).ms_id)


def _addresses(attendees: Sequence[Any] | None) -> list[str]:
    found: list[str] = []
    seen: set[str] = set()
    for attendee in attendees or ():
        mailbox = getattr(attendee, "mailbox", None)
        address = _text(getattr(mailbox, "email_address", None)).strip()
        if address and is_valid_email(address) and address.lower() not in seen:
            seen.add(address.lower())
            found.append(address)
    return found


def _free_busy(value: Any) -> FreeBusy:
    try:
        return FreeBusy(value)
    except ValueError:
        return FreeBusy.BUSY  # NoData and anything new


def _categories(values: Sequence[Any] | None) -> tuple[str, ...]:
    found: list[str] = []
    for value in values or ():
        text = _clean(value, MAX_CATEGORY).strip()
        if text and text not in found:
            found.append(text)
    return tuple(found[:MAX_CATEGORIES])


def _clean(value: Any, limit: int) -> str:
    return _XML_FORBIDDEN.sub("", _text(value))[:limit]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ValueError, OSError):
        return False
    return "/" in name or name == "UTC"


def _is_uuid(text: str) -> bool:
    import uuid as uuid_module

    try:
        uuid_module.UUID(text)
    except ValueError:
        return False
    return True

