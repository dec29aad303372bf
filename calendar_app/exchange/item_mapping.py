"""Appointment ↔ exchangelib CalendarItem, for every field of the domain model.

Time zones: an appointment's IANA zone goes to Exchange as a Windows zone (exchangelib's
EWSTimeZone maps them). Windows zones are coarser than IANA ones ('Europe/Copenhagen' and
'Europe/Paris' are both 'Romance Standard Time'), so the IANA name also travels as a named extended
property: reading it back gives the rep's own zone unless another client moved the meeting to a
different Windows zone. All-day appointments are whole days in their zone: the domain keeps local
midnights with an exclusive end; exchangelib takes dates with an inclusive end.

The local UUID travels as a named extended property too: it is how a create whose answer was lost
is found again, and how items created by this app are told from everyone else's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid as uuid_module
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from exchangelib import Attendee, Body, CalendarItem, EWSDate, EWSDateTime, EWSTimeZone, ExtendedProperty, Mailbox
from exchangelib.errors import UnknownTimeZone

from calendar_app.domain.appointment import MAX_BODY, MAX_LOCATION, MAX_SUBJECT, Appointment, FreeBusy, is_valid_email
from calendar_app.domain.remote_items import uuid_for_foreign_item

# Our own property set: a fixed GUID, so every install writes and finds the same properties.
PROPERTY_SET_ID = "2f5b8c1e-7a0d-4c63-9b1e-5d9e3c0a7f42"
NO_SUBJECT = "(no subject)"


class LocalUuidProperty(ExtendedProperty):
    property_set_id = PROPERTY_SET_ID
    property_name = "CalendarAppLocalUuid"
    property_type = "String"


class IanaTimeZoneProperty(ExtendedProperty):
    property_set_id = PROPERTY_SET_ID
    property_name = "CalendarAppIanaTimeZone"
    property_type = "String"


def register_properties() -> None:
    """Register our extended properties on CalendarItem (class-level, once per process)."""
    for name, cls in (("local_uuid", LocalUuidProperty), ("iana_timezone", IanaTimeZoneProperty)):
        with contextlib.suppress(ValueError):  # already registered
            CalendarItem.register(name, cls)


register_properties()

_WHEN_ITEM_FIELDS = ("start", "end", "is_all_day", "_start_timezone", "_end_timezone", "iana_timezone")

# Which CalendarItem fields carry each domain field (for UpdateItem's SetItemField list).
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


def item_field_names(fields: Iterable[str]) -> list[str]:
    """The CalendarItem fields an update of these domain fields must send, in a stable order."""
    names: list[str] = []
    for name in fields:
        for item_field in ITEM_FIELDS[name]:
            if item_field not in names:
                names.append(item_field)
    return names


def item_values(appointment: Appointment) -> dict[str, Any]:
    """Keyword arguments for CalendarItem(...) (or attributes to set before an update)."""
    zone = EWSTimeZone(appointment.timezone)
    if appointment.is_all_day:
        start: Any = EWSDate.from_date(appointment.start.date())
        end: Any = EWSDate.from_date((appointment.end - dt.timedelta(days=1)).date())  # inclusive last day
    else:
        start = EWSDateTime.from_datetime(appointment.start).astimezone(zone)
        end = EWSDateTime.from_datetime(appointment.end).astimezone(zone)
    return {
        "subject": appointment.subject,
        "location": appointment.location or None,
        "body": Body(appointment.body) if appointment.body else None,
        "start": start,
        "end": end,
        "is_all_day": appointment.is_all_day,
        "_start_timezone": zone,
        "_end_timezone": zone,
        "iana_timezone": appointment.timezone,
        "required_attendees": _attendees(appointment.required_attendees),
        "optional_attendees": _attendees(appointment.optional_attendees),
        "reminder_is_set": appointment.reminder_minutes is not None,
        "reminder_minutes_before_start": appointment.reminder_minutes or 0,
        "legacy_free_busy_status": appointment.free_busy.value,
        "sensitivity": "Private" if appointment.is_private else "Normal",
        "categories": list(appointment.categories) or None,
        "local_uuid": appointment.uuid,
    }


def appointment_from_item(item: CalendarItem) -> tuple[str | None, Appointment]:
    """(local UUID or None for another client's item, the appointment). Values the domain cannot
    hold are made to fit: a blank subject becomes "(no subject)", over-long text is cut, a
    zero-length appointment lasts one minute, attendees without an SMTP address are left out."""
    local_uuid = _valid_uuid(getattr(item, "local_uuid", None))
    uuid = local_uuid or uuid_for_foreign_item(str(item.id))
    zone_name = _zone_name(item)
    zone = ZoneInfo(zone_name)
    if item.is_all_day:
        start = dt.datetime.combine(_as_date(item.start), dt.time(0), tzinfo=zone)
        end = dt.datetime.combine(_as_date(item.end) + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    else:
        start = _plain(item.start).astimezone(zone)
        end = _plain(item.end).astimezone(zone)
    if end <= start:
        end = start + (dt.timedelta(days=1) if item.is_all_day else dt.timedelta(minutes=1))
    required = _addresses(item.required_attendees)
    optional = tuple(a for a in _addresses(item.optional_attendees) if a.lower() not in {r.lower() for r in required})
    free_busy = item.legacy_free_busy_status
    appointment = Appointment(
        uuid=uuid,
        subject=((item.subject or "").strip() or NO_SUBJECT)[:MAX_SUBJECT],
        location=(item.location or "")[:MAX_LOCATION],
        body=str(item.body or "")[:MAX_BODY],
        start=start,
        end=end,
        timezone=zone_name,
        is_all_day=bool(item.is_all_day),
        required_attendees=required,
        optional_attendees=optional,
        reminder_minutes=item.reminder_minutes_before_start if item.reminder_is_set else None,
        free_busy=FreeBusy(free_busy) if free_busy in {f.value for f in FreeBusy} else FreeBusy.BUSY,
        is_private=item.sensitivity == "Private",
        categories=tuple(dict.fromkeys(c for c in (item.categories or ()) if c and c.strip())),
    )
    return local_uuid, appointment


def _attendees(addresses: tuple[str, ...]) -> list[Attendee] | None:
    return [Attendee(mailbox=Mailbox(email_address=a), response_type="Unknown") for a in addresses] or None


def _addresses(attendees: list[Attendee] | None) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for attendee in attendees or ():
        address = getattr(getattr(attendee, "mailbox", None), "email_address", None)
        if address and is_valid_email(address) and address.lower() not in seen:
            seen[address.lower()] = address
    return tuple(seen.values())


def _zone_name(item: CalendarItem) -> str:
    """Our IANA name when it still names the zone Exchange holds; otherwise Exchange's own."""
    server_zone = item._start_timezone
    ours = getattr(item, "iana_timezone", None)
    if ours:
        try:
            if server_zone is None or EWSTimeZone(ours).ms_id == server_zone.ms_id:
                return str(ours)
        except UnknownTimeZone:
            pass
    return str(server_zone.key) if server_zone is not None else "UTC"


def _valid_uuid(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return str(uuid_module.UUID(value))
    except ValueError:
        return None


def _as_date(value: Any) -> dt.date:
    return value if not isinstance(value, dt.datetime) else value.date()


def _plain(moment: Any) -> dt.datetime:
    """An exchangelib EWSDateTime as a plain aware datetime."""
    return dt.datetime(moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second,
                       moment.microsecond, tzinfo=moment.tzinfo)
