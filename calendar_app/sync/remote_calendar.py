"""The one calendar folder the engine syncs with, as a protocol.

`exchange/` implements it over EWS; `sync.in_memory_remote` implements it in memory for tests and
the GUI's tests. One contract test suite runs against both. Every method may raise the typed
errors of `calendar_app.domain.remote_errors` (re-exported here) and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from calendar_app.domain.appointment import Appointment
from calendar_app.domain.remote_errors import (
    AuthFailed,
    CertificateChanged,
    Conflict,
    ErrorScope,
    ImpersonationDenied,
    ItemGone,
    ItemRejected,
    MailboxNotFound,
    OutcomeUnknown,
    RemoteError,
    SyncStateInvalid,
    Throttled,
    TransientNetwork,
)
from calendar_app.domain.remote_items import (
    ChangeKind,
    ChangePage,
    ItemVersion,
    LeftAlone,
    RemoteChange,
    RemoteItem,
    SendTo,
    uuid_for_foreign_item,
)

__all__ = [
    "AuthFailed",
    "CertificateChanged",
    "ChangeKind",
    "ChangePage",
    "Conflict",
    "ErrorScope",
    "ImpersonationDenied",
    "ItemGone",
    "ItemRejected",
    "ItemVersion",
    "LeftAlone",
    "MailboxNotFound",
    "OutcomeUnknown",
    "RemoteCalendar",
    "RemoteChange",
    "RemoteError",
    "RemoteItem",
    "SendTo",
    "SyncStateInvalid",
    "Throttled",
    "TransientNetwork",
    "uuid_for_foreign_item",
]


class RemoteCalendar(Protocol):
    def create(self, appointment: Appointment, *, send_invitations: bool) -> ItemVersion:
        """CreateItem in the calendar folder, with `appointment.uuid` as the local-UUID extended
        property. With `send_invitations` every attendee gets one meeting request."""
        ...

    def find_by_local_uuid(self, local_uuid: str) -> RemoteItem | None:
        """The item carrying this local UUID, if any (used before re-sending a create whose
        outcome is unknown)."""
        ...

    def get(self, item_id: str) -> RemoteItem:
        """The item as the server holds it now. Raises ItemGone."""
        ...

    def update(self, item_id: str, change_key: str, appointment: Appointment, fields: Sequence[str], *,
               send_to: SendTo) -> ItemVersion:
        """UpdateItem of exactly `fields` (names of Appointment fields) to their values in
        `appointment`, with NeverOverwrite: a stale `change_key` raises Conflict and changes
        nothing. Raises ItemGone when the item no longer exists."""
        ...

    def cancel_meeting(self, item_id: str, change_key: str) -> None:
        """CancelCalendarItem: every attendee gets one cancellation and the item leaves the
        calendar. Raises Conflict on a stale change key, ItemGone when already gone."""
        ...

    def move_to_deleted_items(self, item_id: str) -> None:
        """Move an item without attendees to Deleted Items (nobody is told). Raises ItemGone."""
        ...

    def sync_changes(self, sync_state: str | None, *, max_changes: int) -> ChangePage:
        """SyncFolderItems from `sync_state` (None: from the beginning, every item as CREATED).
        Changes made by this client are reported too; the engine recognises them by change key.
        Raises SyncStateInvalid when the state is no longer accepted."""
        ...
