"""The appointment a rep edits, and the rules every appointment obeys.

An `Appointment` can only exist in a valid state: construction validates and raises a
`ValidationError` listing every problem, so no layer below ever stores or sends a bad one.
"""

from __future__ import annotations

import enum
import re
import uuid as uuid_module
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from calendar_app.domain.errors import ValidationError, ValidationProblem

# Exchange stores Subject and Location as short strings; Outlook cuts them at 255.
MAX_SUBJECT = 255
MAX_LOCATION = 255
MAX_BODY = 100_000
MAX_ATTENDEES = 500
MAX_CATEGORIES = 50
MAX_CATEGORY = 255
# Outlook offers up to two weeks; four weeks leaves room without accepting nonsense.
MAX_REMINDER_MINUTES = 4 * 7 * 24 * 60
MAX_DURATION = timedelta(days=5 * 366)

# A pragmatic address check: one @, no spaces, a dot in the domain. Exchange resolves the rest.
_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\"]+$")
# Characters XML 1.0 cannot carry: EWS would reject the whole request.
_XML_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class FreeBusy(enum.StrEnum):
    """How the time shows to others ("Show as"), named as EWS LegacyFreeBusyStatus does."""

    FREE = "Free"
    TENTATIVE = "Tentative"
    BUSY = "Busy"
    OUT_OF_OFFICE = "OOF"
    WORKING_ELSEWHERE = "WorkingElsewhere"


@dataclass(frozen=True)
class Appointment:
    """One calendar entry. `start`/`end` are aware datetimes in `timezone` (an IANA name);
    for an all-day appointment they are local midnights and `end` is exclusive."""

    uuid: str
    subject: str
    start: datetime
    end: datetime
    timezone: str
    location: str = ""
    body: str = ""
    is_all_day: bool = False
    required_attendees: tuple[str, ...] = ()
    optional_attendees: tuple[str, ...] = ()
    reminder_minutes: int | None = 15
    free_busy: FreeBusy = FreeBusy.BUSY
    is_private: bool = False
    categories: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        problems = list(_problems(self))
        if problems:
            raise ValidationError(problems)

    @property
    def attendees(self) -> tuple[str, ...]:
        return self.required_attendees + self.optional_attendees

    @property
    def has_attendees(self) -> bool:
        return bool(self.required_attendees or self.optional_attendees)

    def with_changes(self, **changes: Any) -> Appointment:
        """A validated copy with some fields changed (the uuid never changes)."""
        if "uuid" in changes and changes["uuid"] != self.uuid:
            raise ValueError("an appointment's uuid never changes")
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: wall-clock times plus the zone, so a tzdata update never moves
        a meeting that the rep set at 9:00."""
        return {
            "uuid": self.uuid,
            "subject": self.subject,
            "location": self.location,
            "body": self.body,
            "start": self.start.replace(tzinfo=None).isoformat(),
            "end": self.end.replace(tzinfo=None).isoformat(),
            "timezone": self.timezone,
            "is_all_day": self.is_all_day,
            "required_attendees": list(self.required_attendees),
            "optional_attendees": list(self.optional_attendees),
            "reminder_minutes": self.reminder_minutes,
            "free_busy": self.free_busy.value,
            "is_private": self.is_private,
            "categories": list(self.categories),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, trusted: bool = False) -> Appointment:
        """Rebuild from `to_dict()` form. `trusted=True` skips re-validation: only for data this
        app validated when it wrote it (the store's own rows), where checking again on every
        read made scrolling a 2,000-item month slow."""
        zone = _zone_or_problem(str(data["timezone"]))
        if zone is None:
            raise ValidationError([_unknown_zone(str(data["timezone"]))])
        factory = _unvalidated if trusted else cls
        return factory(
            uuid=str(data["uuid"]),
            subject=str(data["subject"]),
            location=str(data.get("location", "")),
            body=str(data.get("body", "")),
            start=datetime.fromisoformat(data["start"]).replace(tzinfo=zone),
            end=datetime.fromisoformat(data["end"]).replace(tzinfo=zone),
            timezone=str(data["timezone"]),
            is_all_day=bool(data.get("is_all_day", False)),
            required_attendees=tuple(data.get("required_attendees", ())),
            optional_attendees=tuple(data.get("optional_attendees", ())),
            reminder_minutes=data.get("reminder_minutes"),
            free_busy=FreeBusy(data.get("free_busy", FreeBusy.BUSY.value)),
            is_private=bool(data.get("is_private", False)),
            categories=tuple(data.get("categories", ())),
        )


def _unvalidated(**values: Any) -> Appointment:
    return appointment_from_trusted_values(values)


def appointment_from_trusted_values(values: dict[str, Any]) -> Appointment:
    """An appointment from already-typed field values, without validation: only for the store's
    own rows (validated when written). Reading a 2,000-item month builds one per row, and the
    per-field frozen-dataclass assignments were a measurable share of that."""
    appointment = object.__new__(Appointment)
    appointment.__dict__.update(values)
    return appointment


# The fields that sync compares and merges one by one (everything but the identity).
SYNCED_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Appointment) if f.name != "uuid")


def new_appointment(
    *,
    subject: str,
    start: datetime,
    end: datetime,
    timezone: str | None = None,
    **other: Any,
) -> Appointment:
    """A new appointment with a fresh local UUID. Naive `start`/`end` are read in `timezone`;
    aware ones are converted to it (the zone defaults to the start's own IANA zone)."""
    zone_name = timezone or _zone_name_of(start)
    zone = _zone_or_problem(zone_name) if zone_name else None
    if zone is None or zone_name is None:
        raise ValidationError([_unknown_zone(zone_name or "")])
    return Appointment(
        uuid=str(uuid_module.uuid4()),
        subject=subject,
        start=_in_zone(start, zone),
        end=_in_zone(end, zone),
        timezone=zone_name,
        **other,
    )


def is_valid_email(address: str) -> bool:
    return bool(_EMAIL.match(address)) and len(address) <= 320


def _in_zone(moment: datetime, zone: ZoneInfo) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone)
    return moment.astimezone(zone)


def _zone_name_of(moment: datetime) -> str | None:
    return moment.tzinfo.key if isinstance(moment.tzinfo, ZoneInfo) else None


def _zone_or_problem(name: str) -> ZoneInfo | None:
    if not name or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _unknown_zone(name: str) -> ValidationProblem:
    return ValidationProblem(
        "timezone",
        f"'{name}' is not a known time zone. Use an IANA name such as 'Europe/Berlin' or 'America/New_York'.",
    )


def _problems(a: Appointment) -> list[ValidationProblem]:
    problems: list[ValidationProblem] = []

    def add(field_name: str, message: str) -> None:
        problems.append(ValidationProblem(field_name, message))

    try:
        uuid_module.UUID(a.uuid)
    except (ValueError, TypeError, AttributeError):
        add("uuid", f"'{a.uuid}' is not a UUID.")

    _check_text(add, "subject", a.subject, MAX_SUBJECT)
    if isinstance(a.subject, str) and not a.subject.strip():
        add("subject", "Enter a subject.")
    _check_text(add, "location", a.location, MAX_LOCATION)
    _check_text(add, "body", a.body, MAX_BODY)

    zone = _zone_or_problem(a.timezone) if isinstance(a.timezone, str) else None
    if zone is None:
        problems.append(_unknown_zone(str(a.timezone)))
    times_ok = True
    for name, moment in (("start", a.start), ("end", a.end)):
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            add(name, f"The {name} time needs a time zone.")
            times_ok = False
        elif zone is not None and _zone_name_of(moment) != a.timezone:
            add(name, f"The {name} time must be given in the appointment's zone {a.timezone}.")
            times_ok = False
    if times_ok:
        if a.end <= a.start:
            add("end", "The end must be after the start.")
        elif a.end - a.start > MAX_DURATION:
            add("end", "An appointment cannot last more than five years.")
        if a.is_all_day and (a.start.time() != time(0) or a.end.time() != time(0)):
            add("start", "An all-day appointment starts and ends at midnight (whole days).")

    _check_attendees(add, a)

    if a.reminder_minutes is not None and (
        isinstance(a.reminder_minutes, bool)
        or not isinstance(a.reminder_minutes, int)
        or not 0 <= a.reminder_minutes <= MAX_REMINDER_MINUTES
    ):
        add("reminder_minutes", f"A reminder is between 0 and {MAX_REMINDER_MINUTES} minutes before the start.")
    free_busy: object = a.free_busy  # typed, but callers may still pass a plain string
    if not isinstance(free_busy, FreeBusy):
        add("free_busy", f"Show as must be one of: {', '.join(f.value for f in FreeBusy)}.")

    if len(a.categories) > MAX_CATEGORIES:
        add("categories", f"At most {MAX_CATEGORIES} categories.")
    for category in a.categories:
        _check_text(add, "categories", category, MAX_CATEGORY)
        if isinstance(category, str) and not category.strip():
            add("categories", "A category cannot be blank.")
    if len(set(a.categories)) != len(a.categories):
        add("categories", "A category is listed twice.")
    return problems


def _check_text(add: Any, name: str, value: object, limit: int) -> None:
    if not isinstance(value, str):
        add(name, f"The {name} must be text.")
        return
    if len(value) > limit:
        add(name, f"The {name} is {len(value)} characters long; the limit is {limit}.")
    if _XML_FORBIDDEN.search(value):
        add(name, f"The {name} contains control characters that Exchange cannot store; remove them.")


def _check_attendees(add: Any, a: Appointment) -> None:
    everyone = list(a.required_attendees) + list(a.optional_attendees)
    if len(everyone) > MAX_ATTENDEES:
        add("attendees", f"At most {MAX_ATTENDEES} attendees.")
    for name, addresses in (
        ("required_attendees", a.required_attendees),
        ("optional_attendees", a.optional_attendees),
    ):
        for address in addresses:
            if not isinstance(address, str) or not is_valid_email(address):
                add(name, f"'{address}' is not an e-mail address (expected name@example.com).")
    lowered = [x.lower() for x in everyone if isinstance(x, str)]
    duplicates = sorted({x for x in lowered if lowered.count(x) > 1})
    if duplicates:
        add("attendees", f"Listed more than once: {', '.join(duplicates)}.")
