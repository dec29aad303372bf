"""exchangelib's exceptions → our typed remote errors (calendar_app.domain.remote_errors).

The distinctions the sync engine depends on:
- a request that never reached the server (refused, DNS, TLS handshake, a 5xx before processing)
  is `TransientNetwork`: nothing happened, sending it again is safe;
- a connection that broke after a *write* was sent is `OutcomeUnknown`: the server may have
  carried it out, so a create must be looked up before it is sent again. For reads the two are
  the same thing and are reported as `TransientNetwork`;
- a certificate the pinned transport refuses is `CertificateChanged`, with the old and new SHA-256
  fingerprints when the transport reports them (as attributes `pinned_fingerprints` and
  `presented_fingerprint` on its exception — `exchange/` may not import `security/`).

exchangelib folds every connection error into `ErrorTimeoutExpired("Reraised from …")`; the
original exception survives as its `__context__`, which is what is inspected here.
"""

from __future__ import annotations

import contextlib
import logging
import re
import ssl
from collections.abc import Iterator

import requests
import urllib3.exceptions
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
from calendar_app.exchange.response_guard import ServerAskedToWait, UnusableAnswer

log = logging.getLogger(__name__)

DEFAULT_BACK_OFF_SECONDS = 30.0

# Failures that happen before a request is on the wire.
_NOT_SENT = (
    urllib3.exceptions.NewConnectionError,
    urllib3.exceptions.ConnectTimeoutError,
    urllib3.exceptions.NameResolutionError,
    requests.exceptions.ConnectTimeout,
    ConnectionRefusedError,
)

_SERVER_TRANSIENT = (
    ews.ErrorInternalServerTransientError,
    ews.ErrorInternalServerError,
    ews.ErrorMailboxStoreUnavailable,
    ews.ErrorMailboxMoveInProgress,
    ews.ErrorConnectionFailed,
    ews.ErrorConnectionFailedTransientError,
    ews.ErrorTooManyObjectsOpened,
    ews.ErrorExceededConnectionCount,
    ews.ErrorNoRespondingCASInDestinationSite,
    ews.CASError,
    ews.RedirectError,
)


def translate(error: BaseException, *, changes_server: bool) -> RemoteError:
    """Our error for an exception raised by exchangelib (or by the transport under it)."""
    if isinstance(error, RemoteError):
        return error
    refusal = _pinned_trust_refusal(error)
    if refusal is not None:
        return refusal
    for link in _links(error):
        if isinstance(link, ServerAskedToWait):  # nothing was carried out: wait as long as it asked
            return Throttled(str(link), back_off_seconds=link.seconds)
    bad_answer = unusable_answer_message(error)
    if bad_answer is not None:
        return _not_an_ews_answer(bad_answer, changes_server=changes_server)
    if isinstance(error, ews.ErrorServerBusy) and str(error).startswith("Reraised from") \
            and isinstance(error.__context__, Exception):
        # exchangelib dresses other failures (a 503, a dropped connection) up as "busy" with a back-off
        # of its own invention; what the server actually did is the original exception.
        return translate(error.__context__, changes_server=changes_server)
    if isinstance(error, ews.ErrorServerBusy):
        back_off = error.back_off if error.back_off else DEFAULT_BACK_OFF_SECONDS
        return Throttled(f"Exchange is busy and asked us to wait {back_off:.0f} s before trying again.",
                         back_off_seconds=float(back_off))
    if isinstance(error, ews.RateLimitError):
        return Throttled(back_off_seconds=DEFAULT_BACK_OFF_SECONDS)
    if isinstance(error, ews.UnauthorizedError):
        return AuthFailed()
    if isinstance(error, ews.ErrorImpersonateUserDenied | ews.ErrorImpersonationDenied | ews.ErrorImpersonationFailed):
        return ImpersonationDenied()
    if isinstance(error, ews.ErrorNonExistentMailbox | ews.ErrorMissingEmailAddress):
        return MailboxNotFound()
    if isinstance(error, ews.ErrorAccessDenied):
        return ImpersonationDenied("Exchange denied access to this mailbox. Check the mailbox address, and that "
                                   "the account may act for it (impersonation) or owns it.")
    if isinstance(error, ews.ErrorItemNotFound):
        return ItemGone()
    if isinstance(error, ews.ErrorIrresolvableConflict | ews.ErrorInvalidChangeKey):
        return Conflict()
    if isinstance(error, ews.ErrorInvalidSyncStateData):
        return SyncStateInvalid()
    if isinstance(error, ews.ErrorTimeoutExpired):
        return _connection_error(error, changes_server=changes_server)
    if isinstance(error, ews.TransportError) and _tls_failure(error):
        return CertificateChanged(f"The TLS connection to Exchange failed: {_first_line(error)}. Ask the admin to "
                                  "check the server certificate and the keystore in Settings.")
    if isinstance(error, _SERVER_TRANSIENT):
        return TransientNetwork(f"Exchange reported a temporary problem ({type(error).__name__}); "
                                "the sync will try again.")
    if isinstance(error, ews.ResponseMessageError):  # the server refused this one item
        return ItemRejected(f"Exchange refused the change: {_first_line(error)} ({type(error).__name__}).")
    if isinstance(error, requests.exceptions.RequestException | OSError | ews.TransportError):
        return _connection_error(error, changes_server=changes_server)
    if isinstance(error, ValueError | TypeError):  # exchangelib's own validation of a value
        return ItemRejected(f"The appointment cannot be sent to Exchange: {_first_line(error)}.")
    raise error  # a bug: let the engine log it with its traceback


def unusable_answer_message(error: BaseException) -> str | None:
    """What the server sent, for an answer that is not a usable EWS SOAP message (None for other errors):
    the response guard's finding, or exchangelib's own for XML that is SOAP but not the answer expected."""
    for link in _links(error):
        if isinstance(link, UnusableAnswer):
            return link.message
    if isinstance(error, ews.MalformedResponseError):
        return (f"Exchange answered with XML that is not an EWS SOAP response ({_first_line(error)}). Check the "
                "EWS URL, and ask the Exchange admin whether a proxy or gateway rewrites the answers.")
    if isinstance(error, ews.SOAPError):
        text = str(error)
        expected = re.search(r"expected \{[^}]*\}(\w+)", text)
        if text.startswith("Unknown SOAP response") and expected is not None:
            found = re.search(r"<(?:\w+:)?Body[^>]*>\s*<(?:\w+:)?(\w+)", text)
            held = f"<{found.group(1)}>" if found else "nothing"
            return (f"Exchange answered with a SOAP message that holds {held} where EWS answers with "
                    f"<{expected.group(1)}>: the server does not speak EWS as expected. Check the EWS URL and "
                    "ask the Exchange admin.")
        if text.startswith("Bad SOAP response"):
            reason = _first_line(error).removeprefix("Bad SOAP response: ")
            return (f"Exchange answered with something that cannot be read as XML ({reason}). "
                    "Check the EWS URL and ask the Exchange admin.")
    return None


def _not_an_ews_answer(message: str, *, changes_server: bool) -> RemoteError:
    """An answer the app cannot read. For a change, the server may have carried it out before whatever
    produced the answer (a proxy, a gateway) replaced it: the outcome is unknown, so a create is looked up
    before it is sent again. For a read nothing happened."""
    if changes_server:
        return OutcomeUnknown(f"{message} The sync will check whether the last change arrived before sending "
                              "it again.")
    return TransientNetwork(f"{message} The sync will try again later.")


def _pinned_trust_refusal(error: BaseException) -> CertificateChanged | None:
    """The pinned transport refuses a server with its own exceptions (possibly wrapped by
    exchangelib): one naming the pinned and presented fingerprints, or one saying the trusted
    certificate no longer verifies. `security/` is a sibling layer, so they are recognised by what
    they carry and by name."""
    for link in _links(error):
        pinned = getattr(link, "pinned_fingerprints", None)
        if pinned is not None:
            presented = getattr(link, "presented_fingerprint", None)
            return CertificateChanged(_one_line(link), old_sha256=", ".join(pinned), new_sha256=str(presented or ""))
        if type(link).__name__ in {"PinnedTlsError", "TrustSettingRefusedError"}:
            return CertificateChanged(_one_line(link))
    return None


def _links(error: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in found:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _connection_error(error: BaseException, *, changes_server: bool) -> RemoteError:
    if _chain_has(error, _NOT_SENT) or not changes_server:
        return TransientNetwork()
    return OutcomeUnknown()


def _tls_failure(error: BaseException) -> bool:
    return _chain_has(error, (ssl.SSLError, requests.exceptions.SSLError)) or "SSL" in str(error)


def _chain_has(error: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kinds):
            return True
        pending.extend(arg for arg in current.args if isinstance(arg, BaseException))
        for linked in (current.__cause__, current.__context__, getattr(current, "reason", None)):
            if isinstance(linked, BaseException):
                pending.append(linked)
    return False


def _one_line(error: BaseException) -> str:
    """The whole message on one line, ending with a full stop (the admin needs all of it)."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if text.endswith(".") else text + "."


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__).rstrip(".")[:300]


@contextlib.contextmanager
def translated(*, changes_server: bool) -> Iterator[None]:
    """Run exchangelib calls; anything they raise leaves as one of our RemoteErrors."""
    try:
        yield
    except RemoteError:
        raise
    except Exception as error:
        translated_error = translate(error, changes_server=changes_server)
        log.debug("exchange error %s → %s", type(error).__name__, type(translated_error).__name__)
        raise translated_error from error
