"""`calendar-app appointments add|list|edit|cancel`: the rep's calendar from the command line.

Edits are saved locally and queued for Exchange in one transaction (as in the window); a running
`calendar-app sync --watch` or the app sends them, or `calendar-app sync --once` does.
"""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from calendar_app.cli.errors import CliError
from calendar_app.domain import Appointment, FreeBusy, ValidationError, new_appointment
from calendar_app.store import AppointmentNotFoundError, AppointmentRepository, Database, StoreError
from calendar_app.store.app_paths import AppPaths


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("appointments", help="add, list, edit or cancel appointments")
    commands = parser.add_subparsers(dest="appointments_command", metavar="ACTION", required=True)

    add = commands.add_parser("add", help="add an appointment (prints its id)")
    add.add_argument("--subject", required=True)
    add.add_argument("--start", required=True, help="ISO date-time (2026-05-04T09:00) or date with --all-day")
    add.add_argument("--end", help="ISO date-time; with --all-day the last day (default: the start day)")
    _details(add)
    add.set_defaults(func=run_add)

    listing = commands.add_parser("list", help="list the appointments with their sync state")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=run_list)

    edit = commands.add_parser("edit", help="change an appointment (only the options given)")
    edit.add_argument("uuid")
    edit.add_argument("--subject")
    edit.add_argument("--start")
    edit.add_argument("--end")
    _details(edit)
    edit.set_defaults(func=run_edit)

    cancel = commands.add_parser("cancel", help="cancel an appointment (attendees get a cancellation)")
    cancel.add_argument("uuid")
    cancel.set_defaults(func=run_cancel)


def _details(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tz", help="IANA time zone of the times, e.g. Europe/Berlin (default: this computer's)")
    parser.add_argument("--all-day", action=argparse.BooleanOptionalAction, default=None,
                        help="whole days: --start and --end are dates, --end the last day")
    parser.add_argument("--location")
    parser.add_argument("--body")
    parser.add_argument("--attendee", action="append", metavar="SMTP", help="a required attendee (repeat)")
    parser.add_argument("--optional-attendee", action="append", metavar="SMTP", help="an optional attendee")
    parser.add_argument("--no-attendees", action="store_true", help="remove every attendee")
    parser.add_argument("--reminder", metavar="MINUTES|none", help="reminder before the start")
    parser.add_argument("--show-as", choices=[f.value for f in FreeBusy], help="free/busy status")
    parser.add_argument("--private", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--category", action="append", help="a category (repeat; replaces the list)")


# ---------------------------------------------------------------- commands
def run_add(args: argparse.Namespace) -> int:
    from calendar_app.services.sync_session import local_zone_name

    zone_name = args.tz or local_zone_name()
    zone = _zone(zone_name)
    all_day = bool(args.all_day)
    start, end = _times(args.start, args.end, zone, all_day, default_hours=1)
    details = _detail_values(args)
    details.pop("timezone", None)
    details.pop("is_all_day", None)
    with _repository() as repo:
        try:
            appointment = new_appointment(subject=args.subject, start=start, end=end, timezone=zone_name,
                                          is_all_day=all_day, **details)
        except ValidationError as error:
            raise CliError(f"The appointment was not saved: {error}") from error
        _store(lambda: repo.add(appointment))
    print(appointment.uuid)
    return 0


def run_list(args: argparse.Namespace) -> int:
    with _repository() as repo:
        stored = _store(repo.all)
    if args.json:
        rows = [{**s.appointment.to_dict(), "sync_state": s.sync_state, "last_error": s.last_error} for s in stored]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    for s in stored:
        a = s.appointment
        when = (f"{a.start:%Y-%m-%d} (all day)" if a.is_all_day
                else f"{a.start:%Y-%m-%d %H:%M}–{a.end:%H:%M}")
        print(f"{a.uuid}  {when} {a.timezone}  [{s.sync_state}]  {a.subject}")
    return 0


def run_edit(args: argparse.Namespace) -> int:
    with _repository() as repo:
        current = _store(lambda: repo.get(args.uuid)).appointment
        changes = _detail_values(args)
        zone_name = changes.get("timezone", current.timezone)
        zone = _zone(zone_name)
        all_day = changes.get("is_all_day", current.is_all_day)
        if args.subject is not None:
            changes["subject"] = args.subject
        if args.start is not None or args.end is not None or "timezone" in changes or "is_all_day" in changes:
            duration = current.end - current.start
            start_text = args.start or current.start.astimezone(zone).replace(tzinfo=None).isoformat()
            end_text = args.end
            if end_text is None and args.start is None:
                end_text = current.end.astimezone(zone).replace(tzinfo=None).isoformat()
            if all_day and end_text is not None and args.end is None:
                end_text = (datetime.fromisoformat(end_text) - timedelta(days=1)).date().isoformat()
            start, end = _times(start_text, end_text, zone, all_day, default_hours=duration / timedelta(hours=1))
            changes.update(start=start, end=end, timezone=zone_name, is_all_day=all_day)
        try:
            updated = current.with_changes(**changes)
        except ValidationError as error:
            raise CliError(f"The appointment was not changed: {error}") from error
        fields = _store(lambda: repo.update(updated))
    print(f"changed: {', '.join(fields)}" if fields else "nothing changed")
    return 0


def run_cancel(args: argparse.Namespace) -> int:
    with _repository() as repo:
        _store(lambda: repo.cancel(args.uuid))
    print(f"cancelled {args.uuid}")
    return 0


# ---------------------------------------------------------------- helpers
class _repository:
    def __enter__(self) -> AppointmentRepository:
        paths = AppPaths.for_current_user()
        try:
            self._database = Database.open(paths.database_file)
        except StoreError as error:
            raise CliError(str(error)) from error
        return AppointmentRepository(self._database)

    def __exit__(self, *_: object) -> None:
        self._database.close()


def _store(action: Any) -> Any:
    try:
        return action()
    except AppointmentNotFoundError as error:
        raise CliError(f"{error} 'calendar-app appointments list' shows the ids.") from error
    except StoreError as error:
        raise CliError(str(error)) from error


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise CliError(f"--tz {name!r} is not a known time zone; use an IANA name such as Europe/Berlin") from error


def _times(start_text: str, end_text: str | None, zone: ZoneInfo, all_day: bool, *,
           default_hours: float) -> tuple[datetime, datetime]:
    if all_day:
        first = _date(start_text, "--start")
        last = _date(end_text, "--end") if end_text else first
        start = datetime.combine(first, datetime.min.time(), tzinfo=zone)
        return start, datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    start = _datetime(start_text, "--start", zone)
    end = _datetime(end_text, "--end", zone) if end_text else start + timedelta(hours=default_hours)
    return start, end


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text[:10])
    except ValueError as error:
        raise CliError(f"{option} {text!r} is not a date; use YYYY-MM-DD, e.g. 2026-06-01") from error


def _datetime(text: str, option: str, zone: ZoneInfo) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise CliError(f"{option} {text!r} is not a date and time; use ISO 8601, e.g. 2026-05-04T09:00") from error
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)


def _detail_values(args: argparse.Namespace) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if args.tz is not None:
        values["timezone"] = args.tz
    if args.all_day is not None:
        values["is_all_day"] = args.all_day
    if args.location is not None:
        values["location"] = args.location
    if args.body is not None:
        values["body"] = args.body
    if args.no_attendees:
        values["required_attendees"], values["optional_attendees"] = (), ()
    if args.attendee is not None:
        values["required_attendees"] = tuple(args.attendee)
    if args.optional_attendee is not None:
        values["optional_attendees"] = tuple(args.optional_attendee)
    if args.reminder is not None:
        values["reminder_minutes"] = _reminder(args.reminder)
    if args.show_as is not None:
        values["free_busy"] = FreeBusy(args.show_as)
    if args.private is not None:
        values["is_private"] = args.private
    if args.category is not None:
        values["categories"] = tuple(args.category)
    return values


def _reminder(text: str) -> int | None:
    if text.strip().lower() == "none":
        return None
    try:
        return int(text)
    except ValueError as error:
        raise CliError(f"--reminder {text!r}: give minutes (e.g. 15) or 'none'") from error


def describe(appointment: Appointment) -> str:
    return f"{appointment.subject} ({appointment.start:%Y-%m-%d %H:%M} {appointment.timezone})"
