"""exchangelib's exceptions, translated into the sync layer's typed remote errors.

The line that matters most is between "the request never reached Exchange" (safe to send again)
and "the answer was lost" (the server may have carried it out: look before re-sending a create).
exchangelib turns every connection problem into ErrorTimeoutExpired, keeping the original
requests exception as the context; that original tells the two apart.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator

import requests
from exchangelib import errors as ews

from calendar_app.domain.remote_errors import (
    AuthFailed,
    CertificateChanged,
    Conflict,
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

DEFAULT_BACK_OFF_SECONDS = 30.0

# Server-side conditions that pass: try again later.
_TRANSIENT = (
    ews.ErrorInternalServerTransientError, ews.ErrorMailboxStoreUnavailable, ews.ErrorMailboxMoveInProgress,
    ews.ErrorConnectionFailed, ews.ErrorTooManyObjectsOpened, ews.ErrorNoRespondingCASInDestinationSite,
    ews.ErrorInternalServerError, ews.RateLimitError, ews.MalformedResponseError,
)
_GONE = (ews.ErrorItemNotFound,)
_CONFLICT = (ews.ErrorIrresolvableConflict, ews.ErrorInvalidChangeKey, ews.ErrorStaleObject)
_IMPERSONATION = (ews.ErrorImpersonateUserDenied, ews.ErrorImpersonationFailed)
_NO_MAILBOX = (ews.ErrorNonExistentMailbox,)


def translate(error: BaseException, *, changes_server: bool) -> RemoteError:
    """The typed error for an exception raised by an exchangelib call. `changes_server` says
    whether the call writes (create, update, cancel, move): for those a broken connection after
    sending means the outcome is unknown."""
    if isinstance(error, RemoteError):
        return error
    pinned = _pinned_trust_refusal(error)
    if pinned is not None:
        return pinned
    if _is_tls_failure(error):
        return CertificateChanged()
    if isinstance(error, ews.UnauthorizedError):
        return AuthFailed()
    if isinstance(error, _IMPERSONATION):
        return ImpersonationDenied()
    if isinstance(error, _NO_MAILBOX):
        return MailboxNotFound()
    if isinstance(error, ews.ErrorServerBusy):
        return Throttled(back_off_seconds=error.back_off if error.back_off else DEFAULT_BACK_OFF_SECONDS)
    if isinstance(error, _GONE):
        return ItemGone()
    if isinstance(error, _CONFLICT):
        return Conflict()
    if isinstance(error, ews.ErrorInvalidSyncStateData):
        return SyncStateInvalid()
    if isinstance(error, ews.ErrorTimeoutExpired) or _is_connection_failure(error):
        if not changes_server or _never_sent(error):
            return TransientNetwork()
        return OutcomeUnknown()
    if isinstance(error, _TRANSIENT):
        return TransientNetwork()
    if isinstance(error, ews.ResponseMessageError):
        # Exchange refused this request for this item (a value, a recipient, a policy).
        return ItemRejected(f"Exchange refused the appointment ({type(error).__name__}: {_first_line(error)}).")
    if isinstance(error, ews.TransportError):
        return TransientNetwork()
    return RemoteError(f"Exchange reported an unexpected error ({type(error).__name__}: {_first_line(error)}).")


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _pinned_trust_refusal(error: BaseException) -> CertificateChanged | None:
    """The pinned TLS transport (security/, a sibling layer this one may not import) refuses a
    server with its own errors: one that names the pinned and presented fingerprints, or one that
    says the trusted certificate no longer verifies. Recognised by what they carry."""
    for link in _chain(error):
        if hasattr(link, "pinned_fingerprints"):
            return CertificateChanged(_first_line(link), old_sha256=", ".join(link.pinned_fingerprints),
                                      new_sha256=str(getattr(link, "presented_fingerprint", None) or ""))
        if type(link).__name__ in {"PinnedTlsError", "TrustSettingRefusedError"}:
            return CertificateChanged(_first_line(link))
    return None


def _is_tls_failure(error: BaseException) -> bool:
    """A certificate the pinned trust does not accept. (A connection cut mid-handshake is an
    SSLError too, but a network problem: only verification failures count.)"""
    for link in _chain(error):
        if isinstance(link, ssl.SSLCertVerificationError):
            return True
        # exchangelib re-raises TLS failures as a TransportError carrying only the text
        text = str(link).upper()
        if "CERTIFICATE_VERIFY_FAILED" in text or "HOSTNAME MISMATCH" in text or "CERTIFICATE VERIFY FAILED" in text:
            return True
    return False


def _is_connection_failure(error: BaseException) -> bool:
    return any(isinstance(link, (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                                 socket.timeout, ConnectionError)) for link in _chain(error))


def _never_sent(error: BaseException) -> bool:
    """True when the connection failed before the request could be sent (refused, no route,
    name not resolved, connect timeout)."""
    for link in _chain(error):
        if isinstance(link, (requests.exceptions.ConnectTimeout, ConnectionRefusedError)):
            return True
        text = str(link)
        if "NewConnectionError" in text or "Connection refused" in text or "Failed to establish" in text:
            return True
    return False


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else "no details"
