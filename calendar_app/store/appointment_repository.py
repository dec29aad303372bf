"""Appointments as the rep edits them, each save queued for Exchange in the same transaction.

The rule that makes edits durable: the appointment row and its outbox operation are written in
one SQLite transaction, so after any crash either both are there (and the push will happen) or
neither is (and the editor still shows the unsaved change).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from calendar_app.domain.appointment import SYNCED_FIELDS, Appointment, FreeBusy, appointment_from_trusted_values
from calendar_app.store.clock import utc_now_text, utc_text
from calendar_app.store.database import Database
from calendar_app.store.errors import StoreError


class AppointmentNotFoundError(StoreError):
    pass


@dataclass(frozen=True)
class StoredAppointment:
    appointment: Appointment
    sync_state: str  # synced / pending / failed / conflict
    last_error: str | None
    is_cancelled: bool


_COLUMNS = (
    "uuid, subject, location, body, start_local, end_local, timezone, is_all_day, required_attendees, "
    "optional_attendees, reminder_minutes, free_busy, is_private, categories"
)


def _row_values(a: Appointment) -> dict[str, object]:
    data = a.to_dict()
    return {
        "uuid": a.uuid,
        "subject": a.subject,
        "location": a.location,
        "body": a.body,
        "start_local": data["start"],
        "end_local": data["end"],
        "timezone": a.timezone,
        "start_utc": utc_text(a.start),
        "end_utc": utc_text(a.end),
        "is_all_day": int(a.is_all_day),
        "required_attendees": json.dumps(data["required_attendees"]),
        "optional_attendees": json.dumps(data["optional_attendees"]),
        "reminder_minutes": a.reminder_minutes,
        "free_busy": a.free_busy.value,
        "is_private": int(a.is_private),
        "categories": json.dumps(data["categories"]),
        "updated_at": utc_now_text(),
    }


def appointment_from_row(row: sqlite3.Row | tuple[object, ...]) -> Appointment:
    """Build the appointment of a stored row. Trusted: every row was validated when it was
    written (and the schema keeps its shape), so reading a 2,000-item month only converts."""
    (uuid, subject, location, body, start_local, end_local, timezone, is_all_day, required,
     optional, reminder, free_busy, is_private, categories) = tuple(row)[:14]
    zone = _ZONES.get(timezone)
    if zone is None:
        zone = _zone_for_row(str(timezone))
    return appointment_from_trusted_values({
        "uuid": uuid, "subject": subject, "start": datetime.fromisoformat(str(start_local)).replace(tzinfo=zone),
        "end": datetime.fromisoformat(str(end_local)).replace(tzinfo=zone), "timezone": timezone,
        "location": location, "body": body, "is_all_day": bool(is_all_day),
        "required_attendees": _text_tuple(required), "optional_attendees": _text_tuple(optional),
        "reminder_minutes": reminder, "free_busy": _FREE_BUSY[free_busy],
        "is_private": bool(is_private), "categories": _text_tuple(categories),
    })


_ZONES: dict[str, ZoneInfo] = {}
_FREE_BUSY = {member.value: member for member in FreeBusy}
# Decoded attendee and category lists by their stored text: the same categories and the same
# customers' addresses recur across many rows. Bounded so a long session cannot grow it forever.
_LISTS: dict[str, tuple[str, ...]] = {"[]": ()}
_MAX_CACHED_LISTS = 4096


def _zone_for_row(name: str) -> ZoneInfo:
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise StoreError(f"A stored appointment names the unknown time zone '{name}'. Install the tzdata "
                         "package (or update it), then restart the app.") from error
    _ZONES[name] = zone
    return zone


def forget_decoded_lists() -> None:
    """Empty the decoded-list cache (for benchmarks that want a read with nothing cached)."""
    _LISTS.clear()
    _LISTS["[]"] = ()


def _text_tuple(stored: object) -> tuple[str, ...]:
    text = str(stored)
    cached = _LISTS.get(text)
    if cached is None:
        cached = tuple(json.loads(text))
        if len(_LISTS) >= _MAX_CACHED_LISTS:
            forget_decoded_lists()
        _LISTS[text] = cached
    return cached


def _start_then_uuid(row: tuple[object, ...]) -> tuple[str, str]:
    return str(row[17]), str(row[0])


def changed_fields(before: Appointment, after: Appointment) -> list[str]:
    return [name for name in SYNCED_FIELDS if getattr(before, name) != getattr(after, name)]


class AppointmentRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    # ------------------------------------------------------------------ reads
    def get(self, uuid: str) -> StoredAppointment:
        with self._db.reading() as c:
            row = c.execute(
                f"SELECT {_COLUMNS}, COALESCE(s.state, 'pending'), s.last_error, a.is_cancelled "
                "FROM appointments a LEFT JOIN sync_status s USING (uuid) WHERE uuid = ?",
                (uuid,),
            ).fetchone()
        if row is None:
            raise AppointmentNotFoundError(f"There is no appointment {uuid} in this calendar.")
        return StoredAppointment(appointment_from_row(row), row[14], row[15], bool(row[16]))

    def between(self, start: datetime, end: datetime) -> list[StoredAppointment]:
        """Appointments overlapping [start, end), not cancelled, in start order. Walks the start
        index back only as far as the longest stored appointment lasts (itself an index lookup)."""
        with self._db.reading() as c:
            longest_days = c.execute(
                "SELECT MAX(julianday(end_utc) - julianday(start_utc)) FROM appointments").fetchone()[0]
            look_back = timedelta(days=float(longest_days or 0.0)) + timedelta(seconds=1)
            rows = c.execute(
                f"SELECT {_COLUMNS}, COALESCE(s.state, 'pending'), s.last_error, a.is_cancelled, a.start_utc "
                "FROM appointments a LEFT JOIN sync_status s USING (uuid) "
                "WHERE a.start_utc < ? AND a.start_utc >= ? AND a.end_utc > ? AND a.is_cancelled = 0 "
                "ORDER BY a.start_utc",
                (utc_text(end), utc_text(start - look_back), utc_text(start)),
            ).fetchall()
        # The index gives start order; ties are put in uuid order here, because asking SQLite
        # for it made it sort the whole month in a temporary b-tree (24 ms instead of 10 ms).
        rows.sort(key=_start_then_uuid)
        return [StoredAppointment(appointment_from_row(r), r[14], r[15], bool(r[16])) for r in rows]

    def all(self, *, include_cancelled: bool = False) -> list[StoredAppointment]:
        where = "" if include_cancelled else "WHERE a.is_cancelled = 0"
        with self._db.reading() as c:
            rows = c.execute(
                f"SELECT {_COLUMNS}, COALESCE(s.state, 'pending'), s.last_error, a.is_cancelled "
                f"FROM appointments a LEFT JOIN sync_status s USING (uuid) {where} ORDER BY a.start_utc"
            ).fetchall()
        return [StoredAppointment(appointment_from_row(r), r[14], r[15], bool(r[16])) for r in rows]

    def count(self) -> int:
        with self._db.reading() as c:
            return int(c.execute("SELECT COUNT(*) FROM appointments WHERE is_cancelled = 0").fetchone()[0])

    # ------------------------------------------------------------------ the rep's edits
    def add(self, appointment: Appointment) -> None:
        """A new appointment, queued for creation on Exchange."""
        values = _row_values(appointment)
        with self._db.transaction() as c:
            if c.execute("SELECT 1 FROM appointments WHERE uuid = ?", (appointment.uuid,)).fetchone():
                raise StoreError(f"An appointment with id {appointment.uuid} already exists.")
            c.execute(
                f"INSERT INTO appointments ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                tuple(values.values()),
            )
            c.execute("INSERT INTO sync_status (uuid, state) VALUES (?, 'pending')", (appointment.uuid,))
            _enqueue(c, appointment.uuid, "create", [])

    def update(self, appointment: Appointment) -> list[str]:
        """Save an edit; queues an update of just the changed fields. Returns them."""
        with self._db.transaction() as c:
            before = self._current(c, appointment.uuid)
            fields = changed_fields(before, appointment)
            if not fields:
                return []
            values = _row_values(appointment)
            c.execute(
                f"UPDATE appointments SET {', '.join(f'{k} = ?' for k in values)} WHERE uuid = ?",
                (*values.values(), appointment.uuid),
            )
            c.execute("UPDATE sync_status SET state = 'pending' WHERE uuid = ? AND state != 'conflict'",
                      (appointment.uuid,))
            _enqueue(c, appointment.uuid, "update", fields)
            return fields

    def cancel(self, uuid: str) -> None:
        """Cancel: hidden locally at once; Exchange gets a cancellation (or the item is moved to
        Deleted Items) on the next push. An appointment Exchange never saw is simply dropped."""
        with self._db.transaction() as c:
            self._current(c, uuid)
            never_sent = c.execute(
                "SELECT s.item_id IS NULL AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.uuid = ? AND "
                "(o.attempts > 0 OR o.outcome_unknown = 1)) FROM sync_status s WHERE s.uuid = ?",
                (uuid, uuid),
            ).fetchone()
            if never_sent is not None and never_sent[0]:
                c.execute("DELETE FROM outbox WHERE uuid = ?", (uuid,))
                c.execute("DELETE FROM appointments WHERE uuid = ?", (uuid,))
                return
            c.execute("UPDATE appointments SET is_cancelled = 1, updated_at = ? WHERE uuid = ?",
                      (utc_now_text(), uuid))
            c.execute("UPDATE sync_status SET state = 'pending' WHERE uuid = ?", (uuid,))
            _enqueue(c, uuid, "cancel", [])

    def resolve_conflict(self, resolved: Appointment) -> list[str]:
        """The rep's answer to a conflict: `resolved` holds the value chosen for each field.

        When the sync engine records a conflict it stores Exchange's version as the item's snapshot
        (with Exchange's change key), so what must go out is exactly the fields where the
        answer differs from Exchange's version. Returns those fields."""
        with self._db.transaction() as c:
            self._current(c, resolved.uuid)
            row = c.execute("SELECT snapshot FROM sync_status WHERE uuid = ?", (resolved.uuid,)).fetchone()
            exchange_version = Appointment.from_dict(json.loads(row[0])) if row and row[0] else None
            fields = changed_fields(exchange_version, resolved) if exchange_version else list(SYNCED_FIELDS)
            values = _row_values(resolved)
            c.execute(
                f"UPDATE appointments SET {', '.join(f'{k} = ?' for k in values)} WHERE uuid = ?",
                (*values.values(), resolved.uuid),
            )
            c.execute("DELETE FROM conflicts WHERE uuid = ?", (resolved.uuid,))
            c.execute("UPDATE sync_status SET state = ?, last_error = NULL WHERE uuid = ?",
                      ("pending" if fields else "synced", resolved.uuid))
            if fields:
                _enqueue(c, resolved.uuid, "update", fields)
            return fields

    def _current(self, c: sqlite3.Connection, uuid: str) -> Appointment:
        row = c.execute(f"SELECT {_COLUMNS} FROM appointments WHERE uuid = ? AND is_cancelled = 0",
                        (uuid,)).fetchone()
        if row is None:
            raise AppointmentNotFoundError(
                f"The appointment {uuid} no longer exists here (cancelled or removed in Exchange)."
            )
        return appointment_from_row(row)


def _enqueue(c: sqlite3.Connection, uuid: str, operation: str, fields: list[str]) -> None:
    """Queue an operation, folding it into the last one for this appointment when that one
    has not been tried yet: a create still waiting already carries the newest state, and two
    waiting updates become one with both sets of fields (fewer round trips, one invitation)."""
    last = c.execute(
        "SELECT id, operation, changed_fields FROM outbox WHERE uuid = ? AND attempts = 0 AND "
        "outcome_unknown = 0 ORDER BY id DESC LIMIT 1",
        (uuid,),
    ).fetchone()
    is_last_overall = last is not None and c.execute(
        "SELECT MAX(id) FROM outbox WHERE uuid = ?", (uuid,)).fetchone()[0] == last[0]
    if operation == "update" and last is not None and is_last_overall:
        if last[1] == "create":
            return
        if last[1] == "update":
            merged = sorted(set(json.loads(last[2])) | set(fields))
            c.execute("UPDATE outbox SET changed_fields = ? WHERE id = ?", (json.dumps(merged), last[0]))
            return
    c.execute(
        "INSERT INTO outbox (uuid, operation, changed_fields, created_at) VALUES (?, ?, ?, ?)",
        (uuid, operation, json.dumps(sorted(fields)), utc_now_text()),
    )
