"""What one sync run tells its caller (a QThread worker or the CLI): immutable, so it can cross
threads in a queued signal unchanged."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class SyncProgress:
    phase: str  # "push" or "pull"
    done: int
    total: int | None  # None while the total is not known (paging through the server's changes)
    message: str


@dataclass(frozen=True)
class ItemFailure:
    uuid: str
    message: str


@dataclass(frozen=True)
class SyncReport:
    started_at: datetime
    finished_at: datetime
    pushed: int = 0  # creates, updates and cancels that reached the server
    created_locally: int = 0
    updated_locally: int = 0
    deleted_locally: int = 0
    new_conflicts: int = 0
    failures: tuple[ItemFailure, ...] = ()
    pending: int = 0  # appointments with operations still queued
    conflicts_waiting: int = 0  # appointments waiting for the rep to resolve a conflict
    # Set when the server asked us to wait or could not be reached: run again after this long.
    retry_after_seconds: float | None = None
    retry_reason: str | None = None
    # Set when the connection cannot work until a person acts (password, certificate, mailbox).
    fatal_error: str | None = None
    fatal_kind: str | None = None  # the error's class name, e.g. "AuthFailed"
    # The mass-delete guard: how many local appointments the server's answer would have deleted.
    mass_delete_blocked: int = 0
    cancelled: bool = False
    notes: tuple[str, ...] = field(default=())
    # Appointments whose local row or sync state this run may have changed: what a view refreshes.
    changed_uuids: tuple[str, ...] = field(default=())

    @property
    def converged(self) -> bool:
        """Both sides agree as far as this run could tell: nothing queued, failed, blocked or waiting."""
        return (self.pending == 0 and not self.failures and self.retry_after_seconds is None
                and self.fatal_error is None and not self.mass_delete_blocked and not self.cancelled
                and self.conflicts_waiting == 0)

    def summary(self) -> str:
        """One line for the CLI and the status bar."""
        parts = [f"sent {self.pushed}",
                 f"received {self.created_locally} new, {self.updated_locally} changed, "
                 f"{self.deleted_locally} removed"]
        if self.pending:
            parts.append(f"{self.pending} pending")
        if self.failures:
            parts.append(f"{len(self.failures)} failed")
        if self.conflicts_waiting:
            parts.append(f"{self.conflicts_waiting} in conflict")
        if self.mass_delete_blocked:
            parts.append(f"stopped: Exchange would remove all {self.mass_delete_blocked} synced appointments; "
                         "confirm to apply")
        if self.retry_after_seconds is not None:
            parts.append(f"retrying in {self.retry_after_seconds:.0f} s ({self.retry_reason})")
        if self.fatal_error:
            parts.append(f"stopped: {self.fatal_error}")
        if self.cancelled:
            parts.append("cancelled")
        return "; ".join(parts)
