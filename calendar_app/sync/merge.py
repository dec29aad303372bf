"""Three-way merge of one appointment, field by field, against the last version both sides agreed on.

Fields that only make sense together (`domain.field_groups`: the "when", the attendees) merge as
groups, so a merge can never produce a time that ends before it starts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Any

from calendar_app.domain.appointment import SYNCED_FIELDS, Appointment
from calendar_app.domain.field_groups import FIELD_GROUPS, whole_groups


class ConflictPolicy(enum.StrEnum):
    """What happens when the rep and Exchange changed the same field (a setting)."""

    ASK = "ask"  # keep the rep's value locally, record the conflict, send nothing until resolved
    KEEP_MINE = "keep-mine"
    TAKE_EXCHANGE = "take-exchange"


@dataclass(frozen=True)
class FieldConflict:
    field: str
    base: Any
    local: Any
    remote: Any


@dataclass(frozen=True)
class MergeResult:
    merged: Appointment
    conflicts: tuple[FieldConflict, ...]


def differing_fields(before: Appointment, after: Appointment) -> list[str]:
    return [name for name in SYNCED_FIELDS if getattr(before, name) != getattr(after, name)]


def fields_to_send(server_version: Appointment, local: Appointment) -> list[str]:
    """The fields an update must carry to turn `server_version` into `local`; a change to any
    part of a group sends the whole group (Exchange stores start and end with their zone)."""
    return whole_groups(differing_fields(server_version, local))


def merge(base: Appointment | None, local: Appointment, remote: Appointment, policy: ConflictPolicy) -> MergeResult:
    """`merged` keeps `local.uuid`. With no base (we never saw the server's version) the server's
    version is the base: every local difference counts as the rep's change."""
    base = base or remote
    taken: dict[str, Any] = {}
    conflicts: list[FieldConflict] = []
    for group in FIELD_GROUPS:
        local_changed = any(getattr(local, f) != getattr(base, f) for f in group)
        remote_changed = any(getattr(remote, f) != getattr(base, f) for f in group)
        same_now = all(getattr(local, f) == getattr(remote, f) for f in group)
        if remote_changed and not local_changed:
            taken.update({f: getattr(remote, f) for f in group})
        elif local_changed and remote_changed and not same_now:
            if policy is ConflictPolicy.TAKE_EXCHANGE:
                taken.update({f: getattr(remote, f) for f in group})
            elif policy is ConflictPolicy.ASK:
                conflicts.extend(
                    FieldConflict(f, _plain(getattr(base, f)), _plain(getattr(local, f)), _plain(getattr(remote, f)))
                    for f in group if getattr(local, f) != getattr(remote, f)
                )
        # otherwise: only the rep changed it, or both made the same change; the local value stands
    return MergeResult(replace(local, **taken) if taken else local, tuple(conflicts))


def _plain(value: Any) -> Any:
    """A JSON-ready form of a field value, for the conflicts table."""
    if isinstance(value, tuple):
        return list(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value
