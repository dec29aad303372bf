"""iCalendar (RFC 5545) export and import, with the `icalendar` library doing the parsing and
writing. Imported events become ordinary appointments saved through the repository, so they
sync like any other; importing the same file twice updates instead of duplicating."""

from __future__ import annotations

import uuid as uuid_module
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar

from calendar_app.domain import Appointment, FreeBusy, ValidationError
from calendar_app.domain.appointment import MAX_LOCATION, MAX_SUBJECT, is_valid_email
from calendar_app.services.calendar_service import CalendarService

PRODUCT_ID = "-//calendar-app//Sales calendar//EN"
# Outlook writes and reads this for "Show as"; TRANSP only knows busy or free.
_BUSY_STATUS = {
    FreeBusy.FREE: "FREE", FreeBusy.TENTATIVE: "TENTATIVE", FreeBusy.BUSY: "BUSY",
    FreeBusy.OUT_OF_OFFICE: "OOF", FreeBusy.WORKING_ELSEWHERE: "WORKINGELSEWHERE",
}
_BUSY_FROM_TEXT = {text: value for value, text in _BUSY_STATUS.items()}
# A stable namespace so a foreign UID (Google's "...@google.com") maps to the same local uuid
# on every import of the same file.
_IMPORT_NAMESPACE = uuid_module.UUID("5d7c8c3e-2b7a-4f0e-9a59-3f3e7a1c2b10")


class IcsImportError(ValueError):
    """The file is not iCalendar at all; `str()` says what to do."""


@dataclass
class ImportReport:
    saved: list[str] = field(default_factory=list)  # uuids created or updated
    problems: list[str] = field(default_factory=list)  # one line per event left out or changed


# ---------------------------------------------------------------------- export
def export_calendar(appointments: Iterable[Appointment], *, now: datetime | None = None) -> bytes:
    stamp = (now or datetime.now(UTC)).astimezone(UTC)
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    years: list[int] = []
    for a in appointments:
        calendar.add_component(_event_of(a, stamp))
        years += [a.start.year, a.end.year]
    if years:
        # Only the years in use: a VTIMEZONE from 1970 to 2038 would be mostly noise.
        calendar.add_missing_timezones(date(min(years) - 1, 1, 1), date(max(years) + 1, 12, 31))
    data: bytes = calendar.to_ical()
    return data


def _event_of(a: Appointment, stamp: datetime) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", a.uuid)
    event.add("dtstamp", stamp)
    event.add("summary", a.subject)
    if a.is_all_day:
        event.add("dtstart", a.start.date())
        event.add("dtend", a.end.date())
    else:
        event.add("dtstart", a.start)
        event.add("dtend", a.end)
    if a.location:
        event.add("location", a.location)
    if a.body:
        event.add("description", a.body)
    for address, role in [(x, "REQ-PARTICIPANT") for x in a.required_attendees] + \
                         [(x, "OPT-PARTICIPANT") for x in a.optional_attendees]:
        attendee = icalendar.vCalAddress(f"mailto:{address}")
        attendee.params["ROLE"] = role
        attendee.params["RSVP"] = "TRUE"
        event.add("attendee", attendee, encode=False)
    if a.categories:
        event.add("categories", list(a.categories))
    event.add("class", "PRIVATE" if a.is_private else "PUBLIC")
    event.add("transp", "TRANSPARENT" if a.free_busy == FreeBusy.FREE else "OPAQUE")
    event.add("x-microsoft-cdo-busystatus", _BUSY_STATUS[a.free_busy])
    if a.reminder_minutes is not None:
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", "Reminder")
        alarm.add("trigger", timedelta(minutes=-a.reminder_minutes))
        event.add_component(alarm)
    return event


# ---------------------------------------------------------------------- import
def parse_calendar(data: bytes, *, default_zone: str) -> tuple[list[Appointment], list[str]]:
    """Appointments for every event we can represent, plus one line per event left out."""
    try:
        calendars = icalendar.Calendar.from_ical(data, multiple=True)
    except (ValueError, IndexError, KeyError) as error:
        raise IcsImportError(f"This is not an iCalendar file ({error}). Choose a .ics file exported from a "
                             "calendar program.") from error
    zone = ZoneInfo(default_zone)
    appointments: list[Appointment] = []
    problems: list[str] = []
    for calendar in calendars:
        for event in calendar.walk("VEVENT"):
            label = str(event.get("summary", "")) or str(event.get("uid", "(no subject)"))
            try:
                appointment = _appointment_of(event, zone, problems)
            except ValidationError as error:
                problems.append(f"“{label}” left out: {error}")
                continue
            except _Skip as skip:
                problems.append(f"“{label}” left out: {skip}")
                continue
            if appointment is not None:
                appointments.append(appointment)
    return appointments, problems


def import_into(service: CalendarService, data: bytes, *, default_zone: str) -> ImportReport:
    """Parse and save each event as a local edit (queued for Exchange like any other)."""
    appointments, problems = parse_calendar(data, default_zone=default_zone)
    report = ImportReport(problems=problems)
    with_attendees = 0
    for appointment in appointments:
        service.save(appointment)
        report.saved.append(appointment.uuid)
        with_attendees += appointment.has_attendees
    if with_attendees:
        report.problems.append(f"{with_attendees} imported appointment(s) have attendees: they receive invitations "
                               "when the appointment is sent to Exchange.")
    return report


class _Skip(Exception):
    pass


def _appointment_of(event: Any, default_zone: ZoneInfo, problems: list[str]) -> Appointment | None:
    if event.get("recurrence-id") is not None:
        raise _Skip("changed occurrences of a recurring series are not supported yet")
    if event.get("rrule") is not None:
        raise _Skip("recurring series are not supported yet; export single occurrences instead")
    if str(event.get("status", "")).upper() == "CANCELLED":
        raise _Skip("it is cancelled")
    if event.get("dtstart") is None:
        raise _Skip("it has no start (DTSTART)")
    raw_start = event.decoded("dtstart")
    raw_end = event.decoded("dtend") if event.get("dtend") is not None else None
    duration = event.decoded("duration") if event.get("duration") is not None else None
    all_day = isinstance(raw_start, date) and not isinstance(raw_start, datetime)
    if all_day:
        zone_name = default_zone.key
        start = datetime.combine(raw_start, time(0), default_zone)
        if isinstance(raw_end, date) and not isinstance(raw_end, datetime) and raw_end > raw_start:
            end = datetime.combine(raw_end, time(0), default_zone)
        elif isinstance(duration, timedelta) and duration.days >= 1:
            end = start + timedelta(days=duration.days)
        else:
            end = start + timedelta(days=1)
    else:
        zone_name = _iana_zone(raw_start.tzinfo, event["dtstart"].params.get("TZID"), default_zone)
        zone = ZoneInfo(zone_name)
        start = _in_zone(raw_start, zone)
        if isinstance(raw_end, datetime):
            end = _in_zone(raw_end, zone)
        elif isinstance(duration, timedelta):
            end = start + duration
        else:
            end = start  # RFC 5545: no end and no duration means it takes no time
        if end <= start:
            end = start + timedelta(minutes=30)
    required: list[str] = []
    optional: list[str] = []
    # The organizer is listed as an attendee by Google; in Exchange they are not an attendee of
    # their own meeting (and would be sent an invitation to it).
    seen: set[str] = {_address(event.get("organizer", "")).lower()} - {""}
    attendees = event.get("attendee", [])
    for attendee in attendees if isinstance(attendees, list) else [attendees]:
        address = _address(attendee)
        role = str(getattr(attendee, "params", {}).get("ROLE", "REQ-PARTICIPANT")).upper()
        if role == "NON-PARTICIPANT" or address.lower() in seen:
            continue
        if not is_valid_email(address):
            problems.append(f"“{event.get('summary', '')}”: attendee '{address}' left out (not an e-mail address).")
            continue
        seen.add(address.lower())
        (optional if role == "OPT-PARTICIPANT" else required).append(address)
    uid = str(event.get("uid", "")).strip()
    return Appointment(
        uuid=_local_uuid(uid),
        subject=(str(event.get("summary", "")).strip() or "(no subject)")[:MAX_SUBJECT],
        location=str(event.get("location", "")).strip()[:MAX_LOCATION],
        body=str(event.get("description", "")),
        start=start,
        end=end,
        timezone=zone_name,
        is_all_day=all_day,
        required_attendees=tuple(required),
        optional_attendees=tuple(optional),
        reminder_minutes=_reminder_minutes(event),
        free_busy=_free_busy(event),
        is_private=str(event.get("class", "PUBLIC")).upper() in ("PRIVATE", "CONFIDENTIAL"),
        categories=_categories(event),
    )


def _address(value: object) -> str:
    text = str(value).strip()
    return text[7:].strip() if text.lower().startswith("mailto:") else text


def _local_uuid(uid: str) -> str:
    if not uid:
        return str(uuid_module.uuid4())
    try:
        return str(uuid_module.UUID(uid))
    except ValueError:
        return str(uuid_module.uuid5(_IMPORT_NAMESPACE, uid))


def _iana_zone(tz: tzinfo | None, tzid: str | None, default_zone: ZoneInfo) -> str:
    """An IANA name for the event's zone: the zone itself, Outlook's Windows name mapped, or —
    for UTC and floating times — the rep's own zone (what the rep would have picked)."""
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

    candidates: list[str | None] = [getattr(tz, "key", None)]
    if tzid:
        cleaned = tzid.strip().strip("/")
        candidates += [WINDOWS_TO_OLSON.get(cleaned), cleaned, cleaned.split("/", 1)[-1] if tzid.startswith("/")
                       else None]
    for name in candidates:
        if name and name not in ("UTC", "Etc/UTC", "GMT") and _is_zone(name):
            return str(name)
    return default_zone.key


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _in_zone(moment: datetime, zone: ZoneInfo) -> datetime:
    if moment.tzinfo is None:  # a floating time: the rep's own wall clock
        return moment.replace(tzinfo=zone)
    return moment.astimezone(zone)


def _reminder_minutes(event: Any) -> int | None:
    for alarm in event.walk("VALARM"):
        trigger = alarm.get("trigger")
        if trigger is None:
            continue
        value = alarm.decoded("trigger")
        if isinstance(value, timedelta) and str(trigger.params.get("RELATED", "START")).upper() == "START":
            minutes = int(-value.total_seconds() // 60)
            return max(0, minutes)
    return None


def _free_busy(event: Any) -> FreeBusy:
    outlook = str(event.get("x-microsoft-cdo-busystatus", "")).upper()
    if outlook in _BUSY_FROM_TEXT:
        return _BUSY_FROM_TEXT[outlook]
    if str(event.get("status", "")).upper() == "TENTATIVE":
        return FreeBusy.TENTATIVE
    return FreeBusy.FREE if str(event.get("transp", "OPAQUE")).upper() == "TRANSPARENT" else FreeBusy.BUSY


def _categories(event: Any) -> tuple[str, ...]:
    values = event.get("categories")
    if values is None:
        return ()
    found: list[str] = []
    for item in values if isinstance(values, list) else [values]:
        cats = getattr(item, "cats", None)
        names = cats if cats is not None else str(item).split(",")
        for name in names:
            text = str(name).strip()
            if text and text not in found:
                found.append(text)
    return tuple(found)
