"""The sync thread's writes: every outcome of a push or a pull lands here in one transaction that
covers the appointment row, its sync status (Exchange id, change key, merge base), its outbox
operations and its conflicts, so a crash at any point leaves a state the next run can continue.

Merges run *inside* the write transaction: the rep may save an edit at any moment on the GUI
thread, and a merge computed from an older read would overwrite it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol, TypeVar

from calendar_app.domain.appointment import Appointment
from calendar_app.domain.field_groups import FIELD_GROUPS
from calendar_app.store.appointment_repository import _COLUMNS, _row_values, appointment_from_row, changed_fields
from calendar_app.store.clock import utc_now_text, utc_text
from calendar_app.store.sync_records import SyncRecords


@dataclass(frozen=True)
class LocalItem:
    """Everything the engine needs to know about one appointment, read in one snapshot."""

    appointment: Appointment
    is_cancelled: bool
    item_id: str | None
    change_key: str | None
    snapshot: Appointment | None  # what Exchange held at `change_key`: the merge base
    state: str
    has_conflicts: bool


# What the store needs of sync's merge result (sync sits above the store, so it cannot import it).
class FieldConflictLike(Protocol):
    @property
    def field(self) -> str: ...
    @property
    def base(self) -> Any: ...
    @property
    def local(self) -> Any: ...
    @property
    def remote(self) -> Any: ...


class MergeLike(Protocol):
    @property
    def merged(self) -> Appointment: ...
    @property
    def conflicts(self) -> tuple[FieldConflictLike, ...]: ...


MergeT = TypeVar("MergeT", bound=MergeLike)


class SyncLedger(SyncRecords):
    """The engine's side of the sync records: every outcome of a push or pull is one transaction.
    Folder sync states, per-item status and conflicts come from `SyncRecords`."""

    # ------------------------------------------------------------------ reads
    def item(self, uuid: str) -> LocalItem | None:
        with self._db.reading() as c:
            return _read_item(c, uuid)

    def uuid_for_item_id(self, item_id: str) -> str | None:
        with self._db.reading() as c:
            row = c.execute("SELECT uuid FROM sync_status WHERE item_id = ?", (item_id,)).fetchone()
        return None if row is None else str(row[0])

    def known_item_ids(self) -> dict[str, str]:
        """Exchange item id → local UUID for every appointment Exchange has (cancelled ones included)."""
        with self._db.reading() as c:
            rows = c.execute("SELECT item_id, uuid FROM sync_status WHERE item_id IS NOT NULL").fetchall()
        return {str(r[0]): str(r[1]) for r in rows}

    def held_uuids(self) -> set[str]:
        """Appointments in conflict: their pushes wait until the rep has chosen."""
        with self._db.reading() as c:
            # A cancel overrides a conflict: the rep no longer wants the appointment either way.
            return {str(r[0]) for r in c.execute(
                "SELECT DISTINCT k.uuid FROM conflicts k JOIN appointments a USING (uuid) WHERE a.is_cancelled = 0")}

    # ------------------------------------------------------------------ push outcomes
    def mark_sending(self, operation_id: int) -> bool:
        """Recorded before a request goes out: if we die mid-request, the next attempt knows the
        outcome is unknown. False when the operation is gone (the rep dropped an appointment
        that never reached Exchange a moment ago): then nothing must be sent."""
        with self._db.transaction() as c:
            return c.execute("UPDATE outbox SET attempts = attempts + 1, outcome_unknown = 1 WHERE id = ?",
                             (operation_id,)).rowcount == 1

    def mark_sending_create(self, operation_id: int, uuid: str, sent: Appointment) -> bool:
        """As `mark_sending`; also the version sent becomes the merge base, so if the answer is
        lost and the item turns up later (changed by someone else meanwhile), the merge knows
        what we sent."""
        with self._db.transaction() as c:
            if c.execute("UPDATE outbox SET attempts = attempts + 1, outcome_unknown = 1 WHERE id = ?",
                         (operation_id,)).rowcount != 1:
                return False
            c.execute("UPDATE sync_status SET snapshot = ? WHERE uuid = ? AND item_id IS NULL",
                      (json.dumps(sent.to_dict()), uuid))
            return True

    def mark_sending_update(self, operation_id: int, sent: Appointment) -> bool:
        """As `mark_sending`. Every version sent is kept until the operation completes or a merge
        takes the server's version as the new base: any attempt may have been carried out even
        when a later one was refused."""
        with self._db.transaction() as c:
            row = c.execute("SELECT sent_version FROM outbox WHERE id = ?", (operation_id,)).fetchone()
            if row is None:
                return False
            sent_versions = json.loads(row[0]) if row[0] else []
            sent_versions.append(sent.to_dict())
            c.execute("UPDATE outbox SET attempts = attempts + 1, outcome_unknown = 1, sent_version = ? WHERE id = ?",
                      (json.dumps(sent_versions), operation_id))
            return True

    def complete_create(self, operation_id: int, uuid: str, *, item_id: str, change_key: str,
                        snapshot: Appointment) -> None:
        with self._db.transaction() as c:
            _set_remote(c, uuid, item_id, change_key, snapshot)
            c.execute("UPDATE sync_status SET awaiting_pull = 1 WHERE uuid = ?", (uuid,))
            c.execute("DELETE FROM outbox WHERE id = ?", (operation_id,))
            _queue_update_if_ahead(c, uuid)
            _refresh_state(c, uuid)

    def complete_update(self, operation_id: int, uuid: str, *, change_key: str, snapshot: Appointment) -> None:
        with self._db.transaction() as c:
            c.execute("UPDATE sync_status SET change_key = ?, snapshot = ?, synced_at = ? WHERE uuid = ?",
                      (change_key, json.dumps(snapshot.to_dict()), utc_now_text(), uuid))
            c.execute("DELETE FROM outbox WHERE id = ?", (operation_id,))
            # The rep may have saved again while the request was out: queue what is still ahead.
            _queue_update_if_ahead(c, uuid)
            _refresh_state(c, uuid)

    def drop_operation(self, operation_id: int, uuid: str, *, awaiting_pull: bool = False) -> None:
        """An operation with nothing left to send (the server already has it)."""
        with self._db.transaction() as c:
            c.execute("DELETE FROM outbox WHERE id = ?", (operation_id,))
            if awaiting_pull:
                c.execute("UPDATE sync_status SET awaiting_pull = 1 WHERE uuid = ?", (uuid,))
            _queue_update_if_ahead(c, uuid)
            _refresh_state(c, uuid)

    def forget(self, uuid: str) -> None:
        """The appointment is gone on both sides (cancelled and sent, or deleted in Exchange with
        nothing local to keep): remove it with its queue, status and conflicts."""
        with self._db.transaction() as c:
            c.execute("DELETE FROM outbox WHERE uuid = ?", (uuid,))
            c.execute("DELETE FROM appointments WHERE uuid = ?", (uuid,))

    def recreate(self, uuid: str) -> None:
        """Exchange lost the item but the rep has unsent edits: send it again as a new item."""
        with self._db.transaction() as c:
            c.execute("UPDATE sync_status SET item_id = NULL, change_key = NULL, snapshot = NULL WHERE uuid = ?",
                      (uuid,))
            c.execute("DELETE FROM outbox WHERE uuid = ?", (uuid,))
            c.execute("DELETE FROM conflicts WHERE uuid = ?", (uuid,))
            c.execute("INSERT INTO outbox (uuid, operation, changed_fields, created_at) VALUES (?, 'create', '[]', ?)",
                      (uuid, utc_now_text()))
            _refresh_state(c, uuid)

    def postpone(self, operation_id: int, error: str, *, not_before: datetime | None, outcome_known: bool,
                 uuid: str | None = None, mark_failed: bool = False) -> None:
        with self._db.transaction() as c:
            c.execute(
                "UPDATE outbox SET last_error = ?, not_before = ?, outcome_unknown = "
                "CASE WHEN ? THEN 0 ELSE outcome_unknown END WHERE id = ?",
                (error, utc_text(not_before) if not_before else None, int(outcome_known), operation_id),
            )
            if mark_failed and uuid is not None:
                c.execute("UPDATE sync_status SET state = 'failed', last_error = ? WHERE uuid = ?", (error, uuid))

    # ------------------------------------------------------------------ pull outcomes
    def batch(self) -> AbstractContextManager[object]:
        """Apply many outcomes in one commit: every method called inside the block joins its
        transaction (each still all-or-nothing on its own) and reads see what the block wrote.
        A crash or an error loses the whole block, never part of an outcome; keep blocks short,
        since the rep's saves on the GUI thread wait for the commit."""
        return self._db.transaction()

    def reconcile(self, uuid: str, *, item_id: str, change_key: str, remote: Appointment,
                  merge: Callable[[Appointment | None, Appointment], MergeT]) -> MergeT:
        """Exchange holds `remote` at `change_key`. Merge it with the local appointment against
        the last agreed version, store the result and Exchange's version as the new merge base,
        record conflicts, and queue whatever the rep changed that Exchange does not have yet."""
        remote = replace(remote, uuid=uuid)
        with self._db.transaction() as c:
            current = _read_item(c, uuid)
            assert current is not None, f"reconcile of unknown appointment {uuid}"
            result = merge(_merge_base(c, uuid, current.snapshot, remote), current.appointment)
            merged = result.merged
            if merged != current.appointment:
                values = _row_values(merged)
                c.execute(f"UPDATE appointments SET {', '.join(f'{k} = ?' for k in values)} WHERE uuid = ?",
                          (*values.values(), uuid))
            _set_remote(c, uuid, item_id, change_key, remote)
            # The server's version is the new base: it already holds whatever earlier attempts did.
            c.execute("UPDATE outbox SET sent_version = NULL WHERE uuid = ?", (uuid,))
            c.execute("DELETE FROM conflicts WHERE uuid = ?", (uuid,))
            for conflict in result.conflicts:
                c.execute(
                    "INSERT INTO conflicts (uuid, field, base_value, local_value, remote_value, detected_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (uuid, conflict.field, json.dumps(conflict.base), json.dumps(conflict.local),
                     json.dumps(conflict.remote), utc_now_text()),
                )
            if not current.is_cancelled:
                _queue_update_if_ahead(c, uuid)
            _refresh_state(c, uuid)
            return result

    def insert_from_remote(self, uuid: str, *, item_id: str, change_key: str, appointment: Appointment) -> None:
        """A new local appointment for an item Exchange has and we did not (the caller checked):
        the appointment row and its sync status, with Exchange's version as the merge base."""
        if appointment.uuid != uuid:
            appointment = replace(appointment, uuid=uuid)
        values = _row_values(appointment)
        with self._db.transaction() as c:
            c.execute(f"INSERT INTO appointments ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                      tuple(values.values()))
            c.execute("INSERT INTO sync_status (uuid, item_id, change_key, snapshot, state, synced_at) "
                      "VALUES (?, ?, ?, ?, 'synced', ?)",
                      (uuid, item_id, change_key, json.dumps(appointment.to_dict()), values["updated_at"]))

    def exists(self, uuid: str) -> bool:
        with self._db.reading() as c:
            return c.execute("SELECT 1 FROM appointments WHERE uuid = ?", (uuid,)).fetchone() is not None

    def mark_reported(self, item_ids: list[str]) -> None:
        """A pull mentioned these items: from now on the incremental sync will tell us their fate."""
        with self._db.transaction() as c:
            c.executemany("UPDATE sync_status SET awaiting_pull = 0 WHERE item_id = ?", [(i,) for i in item_ids])

    def awaiting_pull(self) -> dict[str, str]:
        """Item id → UUID of items we created that no pull has mentioned yet."""
        with self._db.reading() as c:
            rows = c.execute("SELECT item_id, uuid FROM sync_status WHERE awaiting_pull = 1 AND item_id IS NOT NULL")
            return {str(r[0]): str(r[1]) for r in rows}

    def failed_items(self) -> list[tuple[str, str]]:
        with self._db.reading() as c:
            rows = c.execute("SELECT uuid, COALESCE(last_error, '') FROM sync_status WHERE state = 'failed'").fetchall()
        return [(str(r[0]), str(r[1])) for r in rows]


# ---------------------------------------------------------------------- helpers inside a transaction

def _read_item(c: sqlite3.Connection, uuid: str) -> LocalItem | None:
    row = c.execute(
        f"SELECT {_COLUMNS}, a.is_cancelled, s.item_id, s.change_key, s.snapshot, COALESCE(s.state, 'pending'), "
        "EXISTS (SELECT 1 FROM conflicts k WHERE k.uuid = a.uuid) "
        "FROM appointments a LEFT JOIN sync_status s USING (uuid) WHERE uuid = ?",
        (uuid,),
    ).fetchone()
    if row is None:
        return None
    snapshot = Appointment.from_dict(json.loads(row[17])) if row[17] else None
    return LocalItem(appointment_from_row(row), bool(row[14]), row[15], row[16], snapshot, str(row[18]),
                     bool(row[19]))


def _merge_base(c: sqlite3.Connection, uuid: str, snapshot: Appointment | None,
                remote: Appointment) -> Appointment | None:
    """The last version both sides agreed on. An update whose answer was lost may have been
    carried out: where Exchange now holds exactly what it carried, that is our own write, so it
    counts as agreed (otherwise a later local edit of the same field would look like a conflict)."""
    if snapshot is None:
        return None
    rows = c.execute("SELECT sent_version FROM outbox WHERE uuid = ? AND sent_version IS NOT NULL ORDER BY id",
                     (uuid,)).fetchall()
    base = snapshot
    for (sent_text,) in rows:
        for sent_dict in json.loads(sent_text):
            sent = replace(Appointment.from_dict(sent_dict), uuid=snapshot.uuid)
            agreed: dict[str, Any] = {}
            for group in FIELD_GROUPS:
                sent_changed = any(getattr(base, f) != getattr(sent, f) for f in group)
                if sent_changed and all(getattr(remote, f) == getattr(sent, f) for f in group):
                    agreed.update({f: getattr(sent, f) for f in group})
            base = replace(base, **agreed) if agreed else base
    return base


def _set_remote(c: sqlite3.Connection, uuid: str, item_id: str, change_key: str, snapshot: Appointment) -> None:
    c.execute(
        "INSERT INTO sync_status (uuid, item_id, change_key, snapshot, state, synced_at) "
        "VALUES (?, ?, ?, ?, 'synced', ?) ON CONFLICT (uuid) DO UPDATE SET item_id = excluded.item_id, "
        "change_key = excluded.change_key, snapshot = excluded.snapshot, synced_at = excluded.synced_at",
        (uuid, item_id, change_key, json.dumps(replace(snapshot, uuid=uuid).to_dict()), utc_now_text()),
    )


def _queue_update_if_ahead(c: sqlite3.Connection, uuid: str) -> None:
    """If the local appointment differs from what Exchange holds and nothing is queued to send
    it, queue an update of those fields (e.g. a create adopted after an unknown outcome, or a
    merge that kept the rep's values)."""
    item = _read_item(c, uuid)
    if item is None or item.is_cancelled or item.snapshot is None:
        return
    fields = changed_fields(item.snapshot, item.appointment)
    if not fields:
        return
    if c.execute("SELECT 1 FROM outbox WHERE uuid = ?", (uuid,)).fetchone():
        return
    c.execute("INSERT INTO outbox (uuid, operation, changed_fields, created_at) VALUES (?, 'update', ?, ?)",
              (uuid, json.dumps(sorted(fields)), utc_now_text()))


def _refresh_state(c: sqlite3.Connection, uuid: str) -> None:
    c.execute(
        "UPDATE sync_status SET state = CASE "
        "WHEN EXISTS (SELECT 1 FROM conflicts WHERE uuid = ?) THEN 'conflict' "
        "WHEN EXISTS (SELECT 1 FROM outbox WHERE uuid = ?) THEN 'pending' ELSE 'synced' END, "
        "last_error = NULL WHERE uuid = ?",
        (uuid, uuid, uuid),
    )
