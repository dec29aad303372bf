"""What the sync engine remembers between runs: per-item Exchange identity and merge base,
where each folder's incremental pull resumes, and conflicts waiting for the rep."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from calendar_app.store.clock import utc_now_text
from calendar_app.store.database import Database


@dataclass(frozen=True)
class ItemSyncStatus:
    uuid: str
    item_id: str | None
    change_key: str | None
    snapshot: dict[str, Any] | None  # the last state both sides agreed on: the three-way merge base
    state: str
    last_error: str | None


@dataclass(frozen=True)
class Conflict:
    id: int
    uuid: str
    field: str
    base_value: Any
    local_value: Any
    remote_value: Any


class SyncRecords:
    def __init__(self, database: Database) -> None:
        self._db = database

    def status(self, uuid: str) -> ItemSyncStatus | None:
        with self._db.reading() as c:
            row = c.execute(
                "SELECT uuid, item_id, change_key, snapshot, state, last_error FROM sync_status WHERE uuid = ?",
                (uuid,),
            ).fetchone()
        if row is None:
            return None
        return ItemSyncStatus(row[0], row[1], row[2], json.loads(row[3]) if row[3] else None, row[4], row[5])

    def mark_synced(self, uuid: str, *, item_id: str, change_key: str, snapshot: dict[str, Any]) -> None:
        with self._db.transaction() as c:
            c.execute(
                "INSERT INTO sync_status (uuid, item_id, change_key, snapshot, state, last_error, synced_at) "
                "VALUES (?, ?, ?, ?, 'synced', NULL, ?) ON CONFLICT (uuid) DO UPDATE SET "
                "item_id = excluded.item_id, change_key = excluded.change_key, snapshot = excluded.snapshot, "
                "state = CASE WHEN sync_status.state = 'conflict' THEN 'conflict' ELSE 'synced' END, "
                "last_error = NULL, synced_at = excluded.synced_at",
                (uuid, item_id, change_key, json.dumps(snapshot), utc_now_text()),
            )

    def mark_state(self, uuid: str, state: str, error: str | None = None) -> None:
        with self._db.transaction() as c:
            c.execute("UPDATE sync_status SET state = ?, last_error = ? WHERE uuid = ?", (state, error, uuid))

    def counts(self) -> dict[str, int]:
        with self._db.reading() as c:
            rows = c.execute(
                "SELECT s.state, COUNT(*) FROM sync_status s JOIN appointments a USING (uuid) "
                "GROUP BY s.state").fetchall()
        return {state: int(n) for state, n in rows}

    # ------------------------------------------------------------------ folders
    def folder_sync_state(self, folder: str) -> str | None:
        with self._db.reading() as c:
            row = c.execute("SELECT sync_state FROM folder_sync_state WHERE folder = ?", (folder,)).fetchone()
        return None if row is None else row[0]

    def set_folder_sync_state(self, folder: str, sync_state: str | None) -> None:
        with self._db.transaction() as c:
            c.execute(
                "INSERT INTO folder_sync_state (folder, sync_state, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (folder) DO UPDATE SET sync_state = excluded.sync_state, "
                "updated_at = excluded.updated_at",
                (folder, sync_state, utc_now_text()),
            )

    # ------------------------------------------------------------------ conflicts
    def record_conflict(self, uuid: str, field: str, base: Any, local: Any, remote: Any) -> None:
        with self._db.transaction() as c:
            c.execute(
                "INSERT INTO conflicts (uuid, field, base_value, local_value, remote_value, detected_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (uuid, field) DO UPDATE SET "
                "base_value = excluded.base_value, local_value = excluded.local_value, "
                "remote_value = excluded.remote_value, detected_at = excluded.detected_at",
                (uuid, field, json.dumps(base), json.dumps(local), json.dumps(remote), utc_now_text()),
            )
            c.execute("UPDATE sync_status SET state = 'conflict' WHERE uuid = ?", (uuid,))

    def conflicts(self, uuid: str | None = None) -> list[Conflict]:
        query = "SELECT id, uuid, field, base_value, local_value, remote_value FROM conflicts"
        args: tuple[str, ...] = ()
        if uuid is not None:
            query += " WHERE uuid = ?"
            args = (uuid,)
        with self._db.reading() as c:
            rows = c.execute(query + " ORDER BY id", args).fetchall()
        return [Conflict(r[0], r[1], r[2], json.loads(r[3]), json.loads(r[4]), json.loads(r[5])) for r in rows]
