"""The data a remote calendar (Exchange, or the in-memory fake) hands to the sync engine.

Shared by `exchange/` (which builds them) and `sync/` (which consumes them); stdlib only.
"""

from __future__ import annotations

import enum
import uuid as uuid_module
from dataclasses import dataclass

from calendar_app.domain.appointment import Appointment

# Items created outside this app carry no local UUID; a stable one derived from the Exchange item
# id means the same foreign item always maps to the same local appointment.
FOREIGN_ITEM_NAMESPACE = uuid_module.UUID("6f1c1a52-5f0e-4a0b-9a59-3f2f8e0f6a11")


def uuid_for_foreign_item(item_id: str) -> str:
    return str(uuid_module.uuid5(FOREIGN_ITEM_NAMESPACE, item_id))


class SendTo(enum.StrEnum):
    """Who hears about an update of a meeting (EWS SendMeetingInvitationsOrCancellations)."""

    NOBODY = "SendToNone"
    # attendees added get an invitation, attendees removed a cancellation; the rest nothing
    CHANGED_ATTENDEES = "SendToChangedAndSaveCopy"
    # every attendee gets the updated meeting (removed ones a cancellation)
    ALL_ATTENDEES = "SendToAllAndSaveCopy"


@dataclass(frozen=True)
class ItemVersion:
    """Exchange's identity of an item plus the change key of the version we just wrote."""

    item_id: str
    change_key: str


@dataclass(frozen=True)
class RemoteItem:
    """One calendar item as the server holds it. `local_uuid` is our extended property (None for
    items created by other clients); `appointment.uuid` is `local_uuid`, or for a foreign item
    `uuid_for_foreign_item(item_id)`."""

    item_id: str
    change_key: str
    local_uuid: str | None
    appointment: Appointment

    @property
    def version(self) -> ItemVersion:
        return ItemVersion(self.item_id, self.change_key)


class ChangeKind(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


@dataclass(frozen=True)
class RemoteChange:
    kind: ChangeKind
    item_id: str
    item: RemoteItem | None  # None for DELETED


@dataclass(frozen=True)
class LeftAlone:
    """An item the server listed that the sync does not apply: a recurring series (not part of
    the domain yet; `reason` None) or an item whose values this app cannot read (`reason` says
    which). Its local copy, if any, stays as it is: it is neither changed nor deleted."""

    item_id: str
    reason: str | None = None


@dataclass(frozen=True)
class ChangePage:
    """One answer of an incremental sync: the changes, where to resume, and whether more wait."""

    changes: tuple[RemoteChange, ...]
    sync_state: str
    more_available: bool
    left_alone: tuple[LeftAlone, ...] = ()
