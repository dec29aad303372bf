"""The Exchange half of the connection test: one small EWS call per step, each failure classified.

The steps run in order on one account (the same account factory and pinned transport the sync
engine uses), so a step only runs when the ones before it worked. Every failure becomes a
`ProbeFailure` with a `ProbeProblem` kind; the services layer turns kinds into advice.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Callable
from typing import TypeVar

from exchangelib import Account, CalendarItem, EWSDateTime, EWSTimeZone
from exchangelib.errors import (
    ErrorAccessDenied,
    ErrorImpersonateUserDenied,
    ErrorImpersonationFailed,
    ErrorNonExistentMailbox,
    ErrorServerBusy,
    ErrorTimeoutExpired,
    EWSError,
    RateLimitError,
    TransportError,
    UnauthorizedError,
)
from exchangelib.items import SEND_TO_NONE

from calendar_app.exchange.account_factory import (
    AdapterFactory,
    close_account,
    format_server_version,
    make_account,
)
from calendar_app.exchange.connection_settings import ConnectionSettings
from calendar_app.exchange.error_translation import unusable_answer_message
from calendar_app.exchange.response_guard import AnswerProblem, UnusableAnswer

log = logging.getLogger(__name__)

T = TypeVar("T")

PROBE_SUBJECT = "calendar-app connection test (safe to delete)"


class ProbeProblem(enum.Enum):
    UNAUTHORIZED = "unauthorized"  # HTTP 401: user name or password, or the auth type is off
    IMPERSONATION_DENIED = "impersonation-denied"
    NO_MAILBOX = "no-mailbox"
    ACCESS_DENIED = "access-denied"
    BUSY = "busy"
    TIMEOUT = "timeout"
    TRANSPORT = "transport"  # the connection broke, TLS failed, HTTP 5xx
    UNUSABLE_ANSWER = "unusable-answer"  # HTTP 200, but not an EWS SOAP answer (HTML, junk, too large...)
    OTHER = "other"


class ProbeFailure(Exception):
    """`detail` is a short finding; `explanation`, when set, is the whole story with what to do."""

    def __init__(self, problem: ProbeProblem, detail: str, explanation: str = "") -> None:
        super().__init__(detail)
        self.problem = problem
        self.detail = detail
        self.explanation = explanation


class ExchangeProbe:
    """Holds one account for the steps of one test. Call `close()` when done (also after a failure)."""

    def __init__(self, settings: ConnectionSettings, password: str, adapter_factory: AdapterFactory,
                 timezone: str = "UTC") -> None:
        self._settings = settings
        self._password = password
        self._adapter_factory = adapter_factory
        self._timezone = timezone
        self._account: Account | None = None

    def sign_in(self) -> str:
        """NTLM (or Basic) sign-in plus the server's version, in one ConvertId round trip.
        Returns the version as 'build|api_version' for the settings to pin."""
        def action() -> str:
            self._account = make_account(self._settings, self._password, self._adapter_factory,
                                         timezone=self._timezone)
            return format_server_version(self._account.protocol.version)
        return _classified(action)

    def open_mailbox(self) -> str:
        """Impersonate the rep (or open one's own mailbox): GetFolder on the calendar."""
        return _classified(lambda: str(self._require_account().calendar.name or "Calendar"))

    def read_calendar(self) -> int:
        """A CalendarView over the next week; returns how many items it holds."""
        def action() -> int:
            account = self._require_account()
            start = EWSDateTime.now(EWSTimeZone(self._timezone))
            items = account.calendar.view(start=start, end=start + dt.timedelta(days=7)).only("subject")
            return len(list(items))
        return _classified(action)

    def write_probe(self) -> None:
        """Create a private, free, invitation-less item far in the future, then delete it."""
        def action() -> None:
            account = self._require_account()
            zone = EWSTimeZone(self._timezone)
            start = EWSDateTime.now(zone).replace(microsecond=0) + dt.timedelta(days=3650)
            item = CalendarItem(account=account, folder=account.calendar, subject=PROBE_SUBJECT,
                                start=start, end=start + dt.timedelta(minutes=15), sensitivity="Private",
                                legacy_free_busy_status="Free", reminder_is_set=False)
            item.save(send_meeting_invitations=SEND_TO_NONE)
            item.delete(send_meeting_cancellations=SEND_TO_NONE)
        _classified(action)

    def streaming_subscription(self) -> None:
        """Subscribe to streaming notifications on the calendar and unsubscribe again."""
        def action() -> None:
            calendar = self._require_account().calendar
            subscription_id = calendar.subscribe_to_streaming()
            calendar.unsubscribe(subscription_id)
        _classified(action)

    def close(self) -> None:
        if self._account is not None:
            try:
                close_account(self._account)
            except Exception:
                log.debug("closing the probe account failed", exc_info=True)
            self._account = None

    def _require_account(self) -> Account:
        if self._account is None:
            raise ProbeFailure(ProbeProblem.OTHER, "sign in first")
        return self._account


def _classified(action: Callable[[], T]) -> T:
    """Run one probe call; turn exchangelib's exceptions into ProbeFailure with a kind."""
    try:
        return action()
    except ProbeFailure:
        raise
    except Exception as error:
        explanation = unusable_answer_message(error)
        if explanation is not None:
            raise ProbeFailure(ProbeProblem.UNUSABLE_ANSWER, _answer_finding(error), explanation) from error
        raise ProbeFailure(classify(error), _detail(error)) from error


_FINDINGS = {
    AnswerProblem.TOO_LARGE: "the answer was too large and was refused",
    AnswerProblem.EMPTY: "HTTP 200 with an empty answer",
    AnswerProblem.HTML: "HTTP 200 with an HTML page, not EWS",
    AnswerProblem.NOT_XML: "HTTP 200 with data that is not XML",
    AnswerProblem.INVALID_XML: "HTTP 200 with invalid XML",
    AnswerProblem.NOT_SOAP: "HTTP 200 with XML that is not SOAP",
    AnswerProblem.EMPTY_SOAP: "HTTP 200 with an empty SOAP envelope",
}


def _answer_finding(error: Exception) -> str:
    """The step's short finding; the guard names its problem, exchangelib's own parse errors do not."""
    guard = next((link for link in _causes(error) if isinstance(link, UnusableAnswer)), None)
    return _FINDINGS[guard.problem] if guard is not None else "a SOAP answer that is not the one EWS gives"


def _causes(error: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in found:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def classify(error: Exception) -> ProbeProblem:
    if unusable_answer_message(error) is not None:
        return ProbeProblem.UNUSABLE_ANSWER
    if isinstance(error, UnauthorizedError):
        return ProbeProblem.UNAUTHORIZED
    if isinstance(error, ErrorImpersonateUserDenied | ErrorImpersonationFailed):
        return ProbeProblem.IMPERSONATION_DENIED
    if isinstance(error, ErrorNonExistentMailbox):
        return ProbeProblem.NO_MAILBOX
    if isinstance(error, ErrorAccessDenied):
        return ProbeProblem.ACCESS_DENIED
    if isinstance(error, ErrorServerBusy | RateLimitError):
        return ProbeProblem.BUSY
    if isinstance(error, ErrorTimeoutExpired | TimeoutError):
        return ProbeProblem.TIMEOUT
    if isinstance(error, TransportError | OSError):
        return ProbeProblem.TRANSPORT
    return ProbeProblem.OTHER


def _detail(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    if isinstance(error, EWSError) and type(error).__name__.startswith("Error") and type(error).__name__ not in text:
        text = f"{type(error).__name__}: {text}"
    return text.splitlines()[0][:400]
