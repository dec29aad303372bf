"""A remote calendar in memory that behaves like an Exchange calendar folder, for the engine's
tests, the GUI's tests and the kill test (served to another process over a socket).

What it shares with Exchange, because the engine depends on it: every write gives the item a new
change key; a stale change key is a Conflict and changes nothing; deleted and cancelled items are
gone (ItemGone); incremental sync reports this client's own changes too, coalesced per item, in
pages; meeting requests and cancellations go to attendees exactly as `SendTo` says, and are
counted per attendee. Faults can be injected: throttling (with a back-off the fake enforces and
counts violations of), transient network errors, and an outcome lost after the server committed.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid as uuid_module
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from calendar_app.domain.appointment import Appointment
from calendar_app.domain.field_groups import whole_groups
from calendar_app.sync.remote_calendar import (
    ChangeKind,
    ChangePage,
    Conflict,
    ItemGone,
    ItemVersion,
    RemoteChange,
    RemoteError,
    RemoteItem,
    SendTo,
    SyncStateInvalid,
    Throttled,
    uuid_for_foreign_item,
)

T = TypeVar("T")

WRITE_OPERATIONS = frozenset({"create", "update", "cancel_meeting", "move_to_deleted_items"})


@dataclass
class Fault:
    """The next `times` calls of `operations` (None: any operation) fail with `error`. With
    `after_commit` the server carries a write out first and the answer is lost on the way back."""

    error: RemoteError
    operations: frozenset[str] | None = None
    after_commit: bool = False
    times: int = 1


@dataclass
class _Stored:
    item_id: str
    local_uuid: str | None
    appointment: Appointment
    change_key: str
    created_seq: int
    last_seq: int
    in_calendar: bool = True


@dataclass(frozen=True)
class SentMessage:
    kind: str  # "invitation" (a meeting request or update) or "cancellation"
    to: str
    item_id: str
    cause: str  # the operation that sent it: create / update / cancel_meeting
    local_uuid: str | None


@dataclass
class _Mailbox:
    items: dict[str, _Stored] = field(default_factory=dict)
    sent: list[SentMessage] = field(default_factory=list)


class InMemoryRemoteCalendar:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._box = _Mailbox()
        self._seq = 0
        self._epoch = 1
        self._keys = itertools.count(1)
        self._faults: list[Fault] = []
        self._busy_until: float | None = None
        self.calls: Counter[str] = Counter()
        self.calls_during_back_off = 0

    # ------------------------------------------------------------------ RemoteCalendar
    def create(self, appointment: Appointment, *, send_invitations: bool) -> ItemVersion:
        def create() -> ItemVersion:
            item_id = f"AAMk{uuid_module.uuid4().hex}"
            stored = _Stored(item_id, appointment.uuid, appointment, self._next_key(), self._tick(), self._seq)
            self._box.items[item_id] = stored
            if send_invitations:
                self._send("invitation", appointment.attendees, stored, "create")
            return ItemVersion(item_id, stored.change_key)

        return self._call("create", create)

    def find_by_local_uuid(self, local_uuid: str) -> RemoteItem | None:
        def find() -> RemoteItem | None:
            matches = [s for s in self._box.items.values() if s.in_calendar and s.local_uuid == local_uuid]
            return _as_remote(min(matches, key=lambda s: s.created_seq)) if matches else None

        return self._call("find_by_local_uuid", find)

    def get(self, item_id: str) -> RemoteItem:
        return self._call("get", lambda: _as_remote(self._live(item_id)))

    def update(self, item_id: str, change_key: str, appointment: Appointment, fields: Sequence[str], *,
               send_to: SendTo) -> ItemVersion:
        def update() -> ItemVersion:
            stored = self._live(item_id)
            if change_key != stored.change_key:
                raise Conflict()
            before = stored.appointment
            stored.appointment = _with_fields(before, appointment, fields)
            stored.change_key, stored.last_seq = self._next_key(), self._tick()
            self._notify_update(before, stored, send_to)
            return ItemVersion(item_id, stored.change_key)

        return self._call("update", update)

    def cancel_meeting(self, item_id: str, change_key: str) -> None:
        def cancel() -> None:
            stored = self._live(item_id)
            if change_key != stored.change_key:
                raise Conflict()
            self._send("cancellation", stored.appointment.attendees, stored, "cancel_meeting")
            self._remove(stored)

        self._call("cancel_meeting", cancel)

    def move_to_deleted_items(self, item_id: str) -> None:
        self._call("move_to_deleted_items", lambda: self._remove(self._live(item_id)))

    def sync_changes(self, sync_state: str | None, *, max_changes: int) -> ChangePage:
        return self._call("sync_changes", lambda: self._changes_since(sync_state, max_changes))

    # ------------------------------------------------------------------ what a test does
    def inject(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._busy_until = None

    def invalidate_sync_states(self) -> None:
        """As after a mailbox move: every stored sync state is refused from now on."""
        with self._lock:
            self._epoch += 1

    def items(self) -> list[RemoteItem]:
        with self._lock:
            return [_as_remote(s) for s in self._box.items.values() if s.in_calendar]

    def peek(self, item_id: str) -> RemoteItem:
        """The item as stored, bypassing faults and back-off (what a test inspects)."""
        with self._lock:
            return _as_remote(self._live(item_id))

    def sent_messages(self) -> list[SentMessage]:
        with self._lock:
            return list(self._box.sent)

    def invitation_counts(self) -> dict[str, int]:
        return self._count("invitation")

    def cancellation_counts(self) -> dict[str, int]:
        return self._count("cancellation")

    def call_counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self.calls)

    def back_off_violations(self) -> int:
        with self._lock:
            return self.calls_during_back_off

    # Another client (Outlook, a phone) changing the calendar: no faults, no messages.
    def external_create(self, appointment: Appointment, *, with_local_uuid: bool = False) -> str:
        with self._lock:
            item_id = f"AAMk{uuid_module.uuid4().hex}"
            local_uuid = appointment.uuid if with_local_uuid else None
            shown = appointment if local_uuid else replace(appointment, uuid=uuid_for_foreign_item(item_id))
            self._box.items[item_id] = _Stored(item_id, local_uuid, shown, self._next_key(), self._tick(), self._seq)
            return item_id

    def external_update(self, item_id: str, **changes: Any) -> str:
        with self._lock:
            stored = self._live(item_id)
            stored.appointment = stored.appointment.with_changes(**changes)
            stored.change_key, stored.last_seq = self._next_key(), self._tick()
            return stored.change_key

    def external_delete(self, item_id: str) -> None:
        with self._lock:
            self._remove(self._live(item_id))

    # ------------------------------------------------------------------ internals
    def _call(self, operation: str, action: Callable[[], T]) -> T:
        with self._lock:
            self.calls[operation] += 1
            now = self._clock()
            if self._busy_until is not None and now < self._busy_until:
                self.calls_during_back_off += 1
                raise Throttled(back_off_seconds=self._busy_until - now)
            fault = self._take_fault(operation)
            if fault is None:
                return action()
            if isinstance(fault.error, Throttled):
                self._busy_until = now + fault.error.back_off_seconds
            if fault.after_commit and operation in WRITE_OPERATIONS:
                action()
            raise fault.error

    def _take_fault(self, operation: str) -> Fault | None:
        for fault in self._faults:
            if fault.operations is None or operation in fault.operations:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _live(self, item_id: str) -> _Stored:
        stored = self._box.items.get(item_id)
        if stored is None or not stored.in_calendar:
            raise ItemGone()
        return stored

    def _remove(self, stored: _Stored) -> None:
        stored.in_calendar = False
        stored.last_seq = self._tick()

    def _tick(self) -> int:
        self._seq += 1
        return self._seq

    def _next_key(self) -> str:
        return f"CK{next(self._keys)}"

    def _send(self, kind: str, recipients: Sequence[str], stored: _Stored, cause: str) -> None:
        self._box.sent.extend(SentMessage(kind, address.lower(), stored.item_id, cause, stored.local_uuid)
                              for address in recipients)

    def _notify_update(self, before: Appointment, stored: _Stored, send_to: SendTo) -> None:
        if send_to is SendTo.NOBODY:
            return
        old = {a.lower() for a in before.attendees}
        new = {a.lower() for a in stored.appointment.attendees}
        self._send("cancellation", sorted(old - new), stored, "update")
        self._send("invitation", sorted(new if send_to is SendTo.ALL_ATTENDEES else new - old), stored, "update")

    def _count(self, kind: str) -> dict[str, int]:
        with self._lock:
            return dict(Counter(m.to for m in self._box.sent if m.kind == kind))

    def _changes_since(self, sync_state: str | None, max_changes: int) -> ChangePage:
        since = 0
        if sync_state is not None:
            epoch, _, seq = sync_state.partition(":")
            if epoch != str(self._epoch) or not seq.isdigit():
                raise SyncStateInvalid()
            since = int(seq)
        touched = sorted((s for s in self._box.items.values() if s.last_seq > since), key=lambda s: s.last_seq)
        changes: list[RemoteChange] = []
        position = self._seq
        more = False
        for index, stored in enumerate(touched):
            if not stored.in_calendar:
                if stored.created_seq <= since:
                    changes.append(RemoteChange(ChangeKind.DELETED, stored.item_id, None))
            else:
                kind = ChangeKind.CREATED if stored.created_seq > since else ChangeKind.UPDATED
                changes.append(RemoteChange(kind, stored.item_id, _as_remote(stored)))
            if len(changes) >= max_changes:
                position = stored.last_seq
                more = index + 1 < len(touched)
                break
        return ChangePage(tuple(changes), f"{self._epoch}:{position}", more)


def _with_fields(current: Appointment, wanted: Appointment, fields: Sequence[str]) -> Appointment:
    # Exchange stores start and end with their zone: a group's fields travel together.
    return replace(current, **{name: getattr(wanted, name) for name in whole_groups(fields)})


def _as_remote(stored: _Stored) -> RemoteItem:
    return RemoteItem(stored.item_id, stored.change_key, stored.local_uuid, stored.appointment)
