"""What can go wrong when talking to the remote calendar (Exchange), as our own types.

`exchange/` translates exchangelib's exceptions into these; `sync/` decides what to do with each
(stop and tell the admin, back off and retry, or mark one item and carry on). They live in the
domain layer because both of those layers import them and neither may import the other.

Every error's `str()` is one sentence a person can act on. They pickle, so a remote calendar in
another process (the kill test's server) can raise them across the connection.
"""

from __future__ import annotations

import enum
from typing import Any


class ErrorScope(enum.StrEnum):
    """How far an error reaches, which decides what the engine does with it."""

    FATAL = "fatal"  # the connection cannot work until a person acts: stop and surface it
    RETRY = "retry"  # the server or network is not available now: stop this run, back off
    ITEM = "item"  # one item is affected: handle or mark it and carry on with the rest


class RemoteError(Exception):
    scope: ErrorScope = ErrorScope.RETRY
    default_message = "Exchange reported an error."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message,), self.__dict__.copy())


# ---------------------------------------------------------------- stop and tell the admin

class AuthFailed(RemoteError):
    scope = ErrorScope.FATAL
    default_message = ("Exchange rejected the user name or password. Check the account in Settings "
                       "(Authentication) and enter the password again.")


class CertificateChanged(RemoteError):
    scope = ErrorScope.FATAL
    default_message = ("The Exchange server presented a certificate that is not in the trusted keystore. "
                       "Ask the admin to check it and trust it again in Settings (Server certificate).")

    def __init__(self, message: str | None = None, *, old_sha256: str = "", new_sha256: str = "") -> None:
        super().__init__(message)
        self.old_sha256 = old_sha256
        self.new_sha256 = new_sha256


class MailboxNotFound(RemoteError):
    scope = ErrorScope.FATAL
    default_message = "Exchange has no mailbox with that address. Check the mailbox address in Settings."


class ImpersonationDenied(RemoteError):
    scope = ErrorScope.FATAL
    default_message = ("The impersonation account may not act for this mailbox. Ask the Exchange admin to "
                       "grant the ApplicationImpersonation role, or sign in with the rep's own account.")


# ---------------------------------------------------------------- back off and retry

class Throttled(RemoteError):
    scope = ErrorScope.RETRY
    default_message = "Exchange is busy and asked us to wait before trying again."

    def __init__(self, message: str | None = None, *, back_off_seconds: float = 30.0) -> None:
        super().__init__(message)
        self.back_off_seconds = max(0.0, float(back_off_seconds))


class TransientNetwork(RemoteError):
    """The request did not reach Exchange (refused, DNS, a 5xx before processing): nothing happened."""

    scope = ErrorScope.RETRY
    default_message = "Exchange cannot be reached right now; the sync will try again."


class OutcomeUnknown(RemoteError):
    """The request may or may not have been carried out (the connection dropped mid-answer)."""

    scope = ErrorScope.RETRY
    default_message = "The connection to Exchange broke before it answered; the sync will check and try again."


class SyncStateInvalid(RemoteError):
    """The server no longer accepts our incremental sync state: start a full sync."""

    scope = ErrorScope.ITEM
    default_message = "Exchange did not accept the stored sync position; the whole calendar is read again."


# ---------------------------------------------------------------- one item

class ItemGone(RemoteError):
    scope = ErrorScope.ITEM
    default_message = "The appointment no longer exists in Exchange."


class Conflict(RemoteError):
    """The change key we sent is stale: someone else changed the item since we last saw it."""

    scope = ErrorScope.ITEM
    default_message = "The appointment was changed in Exchange at the same time."


class ItemRejected(RemoteError):
    """Exchange refused this one item (a value it cannot store, a policy): mark it, keep going."""

    scope = ErrorScope.ITEM
    default_message = "Exchange refused this appointment."
