"""The durable queue of local changes waiting to reach Exchange (the sync thread's side).

Operations for one appointment are taken strictly in order; operations for different
appointments are independent, so one rejected item never holds up the rest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from calendar_app.store.clock import utc_now_text, utc_text
from calendar_app.store.database import Database


@dataclass(frozen=True)
class OutboxOperation:
    id: int
    uuid: str
    operation: str  # create / update / cancel
    changed_fields: tuple[str, ...]
    attempts: int
    outcome_unknown: bool
    last_error: str | None


class Outbox:
    def __init__(self, database: Database) -> None:
        self._db = database

    def ready(self, *, limit: int = 100, now: datetime | None = None) -> list[OutboxOperation]:
        """The first waiting operation of each appointment whose back-off has passed."""
        now_text = utc_text(now) if now else utc_now_text()
        with self._db.reading() as c:
            rows = c.execute(
                "SELECT o.id, o.uuid, o.operation, o.changed_fields, o.attempts, o.outcome_unknown, "
                "o.last_error FROM outbox o WHERE o.id = (SELECT MIN(id) FROM outbox WHERE uuid = o.uuid) "
                "AND (o.not_before IS NULL OR o.not_before <= ?) ORDER BY o.id LIMIT ?",
                (now_text, limit),
            ).fetchall()
        return [
            OutboxOperation(r[0], r[1], r[2], tuple(json.loads(r[3])), r[4], bool(r[5]), r[6])
            for r in rows
        ]

    def pending_count(self) -> int:
        with self._db.reading() as c:
            return int(c.execute("SELECT COUNT(DISTINCT uuid) FROM outbox").fetchone()[0])

    def mark_sending(self, operation_id: int) -> None:
        """Recorded *before* the request goes out: if we die mid-request, the next attempt
        knows the outcome is unknown and looks on the server before sending again."""
        with self._db.transaction() as c:
            c.execute("UPDATE outbox SET attempts = attempts + 1, outcome_unknown = 1 WHERE id = ?",
                      (operation_id,))

    def mark_failed(self, operation_id: int, error: str, *, not_before: datetime | None,
                    outcome_known: bool) -> None:
        with self._db.transaction() as c:
            c.execute(
                "UPDATE outbox SET last_error = ?, not_before = ?, outcome_unknown = "
                "CASE WHEN ? THEN 0 ELSE outcome_unknown END WHERE id = ?",
                (error, utc_text(not_before) if not_before else None, int(outcome_known), operation_id),
            )

    def complete(self, operation_id: int) -> None:
        with self._db.transaction() as c:
            c.execute("DELETE FROM outbox WHERE id = ?", (operation_id,))
