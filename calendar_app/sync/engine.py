"""The two-way sync of the local calendar with one remote calendar folder.

`run_once` pushes the outbox (in order per appointment), pulls the server's changes since the
stored sync state, and pushes again whatever the pull's merges queued. It runs on the sync thread
and never raises: every outcome is in the returned `SyncReport`. When the server asks us to wait,
the engine records a not-before time; the next `run_once` waits for it on `cancel_event` (so a
stop request ends the wait at once) and a caller may also read `seconds_until_allowed()` to
schedule the next run itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from calendar_app.domain.appointment import Appointment
from calendar_app.store.database import Database
from calendar_app.store.errors import StoreError
from calendar_app.store.outbox import Outbox, OutboxOperation
from calendar_app.store.sync_ledger import LocalItem, SyncLedger
from calendar_app.sync.invitations import recipients_for_update
from calendar_app.sync.merge import ConflictPolicy, MergeResult, differing_fields, fields_to_send, merge
from calendar_app.sync.remote_calendar import (
    ChangeKind,
    Conflict,
    ErrorScope,
    ItemGone,
    ItemRejected,
    LeftAlone,
    RemoteCalendar,
    RemoteChange,
    RemoteError,
    RemoteItem,
    SyncStateInvalid,
    Throttled,
    TransientNetwork,
    uuid_for_foreign_item,
)
from calendar_app.sync.report import ItemFailure, SyncProgress, SyncReport

log = logging.getLogger(__name__)

CALENDAR_FOLDER = "calendar"
# A stale change key means someone else is editing the same item right now; after this many
# fetch-merge-retry rounds in one run, leave it for the next run rather than spin.
MAX_CONFLICT_ROUNDS = 3
MAX_ITEM_BACK_OFF = timedelta(hours=1)
PUSH_BATCH = 100  # operations read from the outbox at a time
# Pulled changes applied in one write transaction: few enough that a rep's save on the GUI
# thread, which waits for the commit, waits only a few tens of milliseconds.
APPLY_BATCH = 200
# Changes asked for per SyncFolderItems call (Exchange allows up to 512). A first sync of 5,000
# items takes 10 listing round trips instead of 25; a multiple of 100 keeps the follow-up GetItem
# batches (exchangelib sends 100 ids per request) full.
PULL_PAGE_SIZE = 500

T = TypeVar("T")
ProgressCallback = Callable[[SyncProgress], None]


class _StopRun(Exception):
    """Internal: the run ends here (the reason is already in the tally)."""


class _OperationWithdrawn(Exception):
    """Internal: the operation vanished from the outbox just before sending (the rep cancelled
    an appointment Exchange never saw); nothing was sent."""


@dataclass
class _Tally:
    started_at: datetime
    pushed: int = 0
    created_locally: int = 0
    updated_locally: int = 0
    deleted_locally: int = 0
    new_conflicts: int = 0
    failures: list[ItemFailure] = field(default_factory=list)
    retry_after_seconds: float | None = None
    retry_reason: str | None = None
    fatal_error: str | None = None
    fatal_kind: str | None = None
    mass_delete_blocked: int = 0
    cancelled: bool = False
    notes: list[str] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)


class SyncEngine:
    def __init__(
        self,
        database: Database,
        remote: RemoteCalendar,
        *,
        conflict_policy: ConflictPolicy | str = ConflictPolicy.ASK,
        page_size: int = PULL_PAGE_SIZE,
        mass_delete_min_items: int = 5,
        retry_base_seconds: float = 2.0,
        max_back_off_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ledger = SyncLedger(database)
        self._outbox = Outbox(database)
        self._remote = remote
        self.conflict_policy = ConflictPolicy(conflict_policy)
        self._page_size = page_size
        self._mass_delete_min_items = mass_delete_min_items
        self._retry_base = retry_base_seconds
        self._max_back_off = max_back_off_seconds
        self._clock = clock
        self._not_before: float | None = None
        self._retry_failures_in_a_row = 0

    # ------------------------------------------------------------------ public
    def seconds_until_allowed(self) -> float:
        """How long the server asked us to wait before the next request (0: go ahead)."""
        if self._not_before is None:
            return 0.0
        return max(0.0, self._not_before - self._clock())

    def run_once(
        self,
        cancel_event: threading.Event | None = None,
        on_progress: ProgressCallback | None = None,
        *,
        allow_mass_delete: bool = False,
    ) -> SyncReport:
        cancel = cancel_event or threading.Event()
        tally = _Tally(started_at=datetime.now(UTC))
        progress = _safe_progress(on_progress)
        try:
            wait = self.seconds_until_allowed()
            if wait > 0 and cancel.wait(wait):
                tally.cancelled = True
                raise _StopRun
            self._not_before = None
            self._push(cancel, progress, tally)
            self._pull(cancel, progress, tally, allow_mass_delete=allow_mass_delete)
            if self._outbox.ready(limit=1):
                self._push(cancel, progress, tally)
            self._retry_failures_in_a_row = 0
        except _StopRun:
            pass
        except RemoteError as error:
            self._stop_for(error, tally)
        except StoreError as error:
            tally.fatal_error, tally.fatal_kind = str(error), type(error).__name__
        except Exception as error:  # a bug must not kill the sync thread; it is logged with its traceback
            log.exception("sync run failed")
            tally.fatal_error = f"Unexpected error during sync ({type(error).__name__}: {error}); see the log."
            tally.fatal_kind = type(error).__name__
        return self._report(tally)

    # ------------------------------------------------------------------ errors that end a run
    def _stop_for(self, error: RemoteError, tally: _Tally) -> None:
        if error.scope is ErrorScope.FATAL:
            tally.fatal_error, tally.fatal_kind = str(error), type(error).__name__
            log.error("sync stopped: %s", error)
            return
        if isinstance(error, Throttled):
            delay = min(self._max_back_off, error.back_off_seconds)
        else:
            delay = min(self._max_back_off, self._retry_base * 2 ** min(self._retry_failures_in_a_row, 20))
            self._retry_failures_in_a_row += 1
        self._not_before = self._clock() + delay
        tally.retry_after_seconds, tally.retry_reason = delay, str(error)
        log.info("sync paused for %.1f s: %s", delay, error)

    def _report(self, tally: _Tally) -> SyncReport:
        try:
            pending = self._outbox.pending_count()
            waiting = len(self._ledger.held_uuids())
        except StoreError as error:
            pending, waiting = 0, 0
            tally.fatal_error = tally.fatal_error or str(error)
        return SyncReport(
            started_at=tally.started_at, finished_at=datetime.now(UTC), pushed=tally.pushed,
            created_locally=tally.created_locally, updated_locally=tally.updated_locally,
            deleted_locally=tally.deleted_locally, new_conflicts=tally.new_conflicts,
            failures=tuple(tally.failures), pending=pending, conflicts_waiting=waiting,
            retry_after_seconds=tally.retry_after_seconds, retry_reason=tally.retry_reason,
            fatal_error=tally.fatal_error, fatal_kind=tally.fatal_kind,
            mass_delete_blocked=tally.mass_delete_blocked, cancelled=tally.cancelled, notes=tuple(tally.notes),
            changed_uuids=tuple(sorted(tally.touched)),
        )

    # ------------------------------------------------------------------ push
    def _push(self, cancel: threading.Event, progress: ProgressCallback, tally: _Tally) -> None:
        held = self._ledger.held_uuids()
        conflict_rounds: dict[int, int] = {}
        skipped: set[int] = set()
        done = 0
        total = self._outbox.pending_count()
        while True:
            # Held (in conflict) and skipped operations stay "ready": read past them, or a page of
            # them would starve every other appointment.
            candidates = self._outbox.ready(limit=len(held) + len(skipped) + PUSH_BATCH)
            operations = [op for op in candidates if op.uuid not in held and op.id not in skipped][:PUSH_BATCH]
            if not operations:
                return
            for op in operations:
                if cancel.is_set():
                    tally.cancelled = True
                    raise _StopRun
                outcome = self._push_one(op, tally)
                if outcome == "conflict":
                    conflict_rounds[op.id] = conflict_rounds.get(op.id, 0) + 1
                    if conflict_rounds[op.id] >= MAX_CONFLICT_ROUNDS:
                        skipped.add(op.id)
                    held = self._ledger.held_uuids()
                elif outcome == "skipped":
                    skipped.add(op.id)
                done += 1
                total = max(total, done)
                progress(SyncProgress("push", done, total, f"{op.operation} {op.uuid}"))

    def _push_one(self, op: OutboxOperation, tally: _Tally) -> str:
        tally.touched.add(op.uuid)
        item = self._ledger.item(op.uuid)
        if item is None:  # the appointment is gone locally; nothing left to send
            self._ledger.forget(op.uuid)
            return "done"
        try:
            if op.operation == "cancel":
                return self._push_cancel(op, item, tally)
            if op.operation == "create" or item.item_id is None:
                return self._push_create(op, item, tally)
            return self._push_update(op, item, tally)
        except _OperationWithdrawn:
            return "done"
        except ItemRejected as error:
            not_before = datetime.now(UTC) + min(MAX_ITEM_BACK_OFF, timedelta(minutes=2 ** min(op.attempts, 10)))
            self._ledger.postpone(op.id, str(error), not_before=not_before, outcome_known=True,
                                  uuid=op.uuid, mark_failed=True)
            tally.failures.append(ItemFailure(op.uuid, str(error)))
            return "skipped"

    def _send(self, op: OutboxOperation, request: Callable[[], T], *, mark: Callable[[], bool] | None = None) -> T:
        """Send one request that changes the server. The outbox row says "outcome unknown"
        before it goes out, so a crash mid-request makes the next run look before re-sending."""
        marked = self._ledger.mark_sending(op.id) if mark is None else mark()
        if not marked:
            raise _OperationWithdrawn
        try:
            return request()
        except (Throttled, TransientNetwork, Conflict, ItemGone, ItemRejected) as error:
            # The server did not carry it out: the outcome is known again.
            self._ledger.postpone(op.id, str(error), not_before=None, outcome_known=True)
            raise

    def _push_create(self, op: OutboxOperation, item: LocalItem, tally: _Tally) -> str:
        uuid = item.appointment.uuid
        if item.item_id is not None:  # the server has it already (adopted by a pull)
            self._ledger.drop_operation(op.id, uuid)
            return "done"
        if op.outcome_unknown:
            found = self._remote.find_by_local_uuid(uuid)
            if found is not None:
                # It arrived: merge against the version we sent (others may have changed it since).
                self._reconcile(uuid, found, tally)
                self._ledger.drop_operation(op.id, uuid, awaiting_pull=True)
                tally.pushed += 1
                return "done"
        if item.is_cancelled:  # never reached the server: nobody to tell
            self._ledger.forget(uuid)
            return "done"
        appointment = item.appointment
        version = self._send(op, lambda: self._remote.create(appointment, send_invitations=appointment.has_attendees),
                             mark=lambda: self._ledger.mark_sending_create(op.id, uuid, appointment))
        self._ledger.complete_create(op.id, uuid, item_id=version.item_id, change_key=version.change_key,
                                     snapshot=appointment)
        tally.pushed += 1
        return "done"

    def _push_update(self, op: OutboxOperation, item: LocalItem, tally: _Tally) -> str:
        uuid = item.appointment.uuid
        if item.is_cancelled:  # the cancel queued after this update makes it moot
            self._ledger.drop_operation(op.id, uuid)
            return "done"
        assert item.item_id is not None and item.change_key is not None
        if item.snapshot is None:  # no merge base: learn what the server holds first
            return self._refetch_and_merge(uuid, item.item_id, tally)
        appointment = item.appointment
        fields = fields_to_send(item.snapshot, appointment)
        if not fields:
            self._ledger.drop_operation(op.id, uuid)
            return "done"
        send_to = recipients_for_update(item.snapshot, appointment, fields)
        item_id, change_key = item.item_id, item.change_key
        try:
            version = self._send(op, lambda: self._remote.update(item_id, change_key, appointment, fields,
                                                                 send_to=send_to),
                                 mark=lambda: self._ledger.mark_sending_update(op.id, appointment))
        except Conflict:
            return self._refetch_and_merge(uuid, item_id, tally)
        except ItemGone:
            self._ledger.recreate(uuid)
            tally.notes.append(f"{uuid} was deleted in Exchange while edited here; it is sent again")
            return "done"
        self._ledger.complete_update(op.id, uuid, change_key=version.change_key, snapshot=appointment)
        tally.pushed += 1
        return "done"

    def _push_cancel(self, op: OutboxOperation, item: LocalItem, tally: _Tally) -> str:
        uuid = item.appointment.uuid
        if item.item_id is None:
            self._ledger.forget(uuid)
            return "done"
        item_id, change_key = item.item_id, item.change_key or ""
        # The attendees Exchange knows decide whether this is a meeting others must hear about.
        is_meeting = (item.snapshot or item.appointment).has_attendees
        try:
            if is_meeting:
                self._send(op, lambda: self._remote.cancel_meeting(item_id, change_key))
            else:
                self._send(op, lambda: self._remote.move_to_deleted_items(item_id))
        except ItemGone:
            pass  # already gone (perhaps our own earlier attempt whose answer was lost)
        except Conflict:
            return self._refetch_and_merge(uuid, item_id, tally)
        self._ledger.forget(uuid)
        tally.pushed += 1
        return "done"

    def _refetch_and_merge(self, uuid: str, item_id: str, tally: _Tally) -> str:
        try:
            server = self._remote.get(item_id)
        except ItemGone:
            self._apply_remote_delete(uuid, tally)
            return "done"
        self._reconcile(uuid, server, tally)
        return "conflict"

    def _reconcile(self, uuid: str, server: RemoteItem, tally: _Tally) -> MergeResult:
        policy = self.conflict_policy

        def merge_with_server(base: Appointment | None, local: Appointment) -> MergeResult:
            return merge(base, local, server.appointment, policy)

        tally.touched.add(uuid)
        result = self._ledger.reconcile(uuid, item_id=server.item_id, change_key=server.change_key,
                                        remote=server.appointment, merge=merge_with_server)
        if result.conflicts:
            tally.new_conflicts += 1
        return result

    # ------------------------------------------------------------------ pull
    def _pull(self, cancel: threading.Event, progress: ProgressCallback, tally: _Tally, *,
              allow_mass_delete: bool) -> None:
        stored_state = self._ledger.folder_sync_state(CALENDAR_FOLDER)
        cursor = stored_state
        full = cursor is None
        changes: dict[str, RemoteChange] = {}
        left_alone: dict[str, LeftAlone] = {}
        while True:
            if cancel.is_set():
                tally.cancelled = True
                raise _StopRun
            try:
                page = self._remote.sync_changes(cursor, max_changes=self._page_size)
            except SyncStateInvalid:
                if full:
                    raise
                tally.notes.append("Exchange did not accept the stored sync position; the calendar was read again")
                cursor, full = None, True
                changes.clear()
                left_alone.clear()
                continue
            for change in page.changes:
                changes.pop(change.item_id, None)  # keep the newest, in server order
                changes[change.item_id] = change
                left_alone.pop(change.item_id, None)
            for passed_over in page.left_alone:
                changes.pop(passed_over.item_id, None)
                left_alone[passed_over.item_id] = passed_over
            cursor = page.sync_state
            progress(SyncProgress("pull", len(changes), None, "reading changes from Exchange"))
            if not page.more_available:
                break

        known = self._ledger.known_item_ids()
        deletions = {item_id for item_id, c in changes.items() if c.kind is ChangeKind.DELETED and item_id in known}
        if full and known:  # a full listing: what we knew and it no longer lists is gone
            # An item listed but left alone (unreadable, or a series) is still there: not missing.
            missing = set(known) - set(changes) - set(left_alone)
            deletions |= missing
            for item_id in missing:
                changes[item_id] = RemoteChange(ChangeKind.DELETED, item_id, None)
        # The guard: an empty calendar on the server while many items are synced is far more
        # likely a wrong mailbox, a broken folder or an admin's mistake than the rep's intent.
        if (not allow_mass_delete and len(known) >= self._mass_delete_min_items
                and len(deletions) >= len(known)):
            tally.mass_delete_blocked = len(deletions)
            log.warning("mass-delete guard: the server would remove all %d synced appointments", len(deletions))
            return
        total = len(changes)
        pending = list(changes.values())
        for first in range(0, total, APPLY_BATCH):
            if cancel.is_set():  # the stored state is not advanced: the next run re-applies safely
                tally.cancelled = True
                raise _StopRun
            # One commit per batch instead of one per item (a first sync of thousands spent a
            # third of its local time committing). A crash loses at most this batch, which the
            # next run applies again: the folder's sync state only advances after the last one.
            with self._ledger.batch():
                for change in pending[first:first + APPLY_BATCH]:
                    self._apply_change(change, tally)
            done = min(first + APPLY_BATCH, total)
            progress(SyncProgress("pull", done, total, "applying changes from Exchange"))
        self._ledger.set_folder_sync_state(CALENDAR_FOLDER, cursor)
        self._ledger.mark_reported(list(changes) + list(left_alone))
        for passed_over in left_alone.values():
            if passed_over.reason is not None:
                self._report_unreadable(passed_over.item_id, passed_over.reason, known.get(passed_over.item_id), tally)
        self._check_unreported_creates(tally)

    @staticmethod
    def _report_unreadable(item_id: str, reason: str, uuid: str | None, tally: _Tally) -> None:
        """Exchange holds a version this app cannot read: the local copy stays as it is, and the
        rep hears about it (a failure on the appointment when it exists here, else a note)."""
        log.warning("left alone: Exchange item %s cannot be read: %s", item_id, reason)
        if uuid is not None:
            tally.failures.append(ItemFailure(uuid, reason))
            tally.touched.add(uuid)
        else:
            tally.notes.append(reason)

    def _check_unreported_creates(self, tally: _Tally) -> None:
        """An item we created and someone deleted before our next pull is never reported by the
        incremental sync (the server never told us about it, so it tells us of no deletion):
        ask for each such item directly."""
        for item_id, uuid in self._ledger.awaiting_pull().items():
            try:
                self._remote.get(item_id)
            except ItemGone:
                self._apply_remote_delete(uuid, tally)
                continue
            except ItemRejected as error:  # there, but unreadable: asking again every run won't help
                self._report_unreadable(item_id, str(error), uuid, tally)
            self._ledger.mark_reported([item_id])

    def _apply_change(self, change: RemoteChange, tally: _Tally) -> None:
        if change.kind is ChangeKind.DELETED or change.item is None:
            uuid = self._ledger.uuid_for_item_id(change.item_id)
            if uuid is not None:
                self._apply_remote_delete(uuid, tally)
            return
        remote = change.item
        uuid = self._ledger.uuid_for_item_id(remote.item_id)
        if uuid is None and remote.local_uuid is not None:
            ours = self._ledger.item(remote.local_uuid)
            if ours is None:
                self._insert(remote.local_uuid, remote, tally)
                return
            if ours.item_id is None:  # our own create whose answer never arrived: adopt it
                uuid = remote.local_uuid
        if uuid is None:
            # Created by another client (or a copy of one of ours): a new local appointment.
            new_uuid = uuid_for_foreign_item(remote.item_id)
            if not self._ledger.exists(new_uuid):
                self._insert(new_uuid, remote, tally)
            return
        local = self._ledger.item(uuid)
        if local is None:
            return
        if local.item_id == remote.item_id and local.change_key == remote.change_key:
            return  # our own change coming back, or one already applied
        before = local.appointment
        result = self._reconcile(uuid, remote, tally)
        if result.merged != before:
            tally.updated_locally += 1

    def _insert(self, uuid: str, remote: RemoteItem, tally: _Tally) -> None:
        self._ledger.insert_from_remote(uuid, item_id=remote.item_id, change_key=remote.change_key,
                                        appointment=remote.appointment)
        tally.created_locally += 1
        tally.touched.add(uuid)

    def _apply_remote_delete(self, uuid: str, tally: _Tally) -> None:
        tally.touched.add(uuid)
        local = self._ledger.item(uuid)
        if local is None:
            return
        unsent = local.snapshot is not None and bool(differing_fields(local.snapshot, local.appointment))
        if not local.is_cancelled and unsent:
            # Deleted in Exchange while the rep has edits not yet sent: keep the rep's work.
            self._ledger.recreate(uuid)
            tally.notes.append(f"{uuid} was deleted in Exchange while edited here; it is sent again")
            return
        self._ledger.forget(uuid)
        if not local.is_cancelled:
            tally.deleted_locally += 1


def _safe_progress(callback: ProgressCallback | None) -> ProgressCallback:
    def report(progress: SyncProgress) -> None:
        if callback is None:
            return
        try:
            callback(progress)
        except Exception:  # a broken progress display must not stop the sync
            log.exception("progress callback failed")

    return report
