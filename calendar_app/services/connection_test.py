"""The step-by-step connection test the wizard, the Settings dialog and `calendar-app test-connection` run.

`run_connection_test` yields one `StepResult` per step, in order, as each finishes; it stops at the
first failure (later steps would only fail for the same reason). Every failure carries what it means
and what to do. No Qt: callers run it on a worker thread and may set `cancel` between steps.
"""

from __future__ import annotations

import enum
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from cryptography import x509

from calendar_app.exchange.connection_probe import ExchangeProbe, ProbeFailure, ProbeProblem
from calendar_app.exchange.connection_settings import AuthType, ConnectionSettings, SignInMode
from calendar_app.logging_setup import register_secret
from calendar_app.security.certificate_capture import CapturedChain, CaptureError, capture_chain
from calendar_app.security.certificate_details import sha256_fingerprint
from calendar_app.security.ews_url import EwsEndpoint, InvalidEwsUrlError, parse_ews_url
from calendar_app.security.pinned_transport import PinnedTlsAdapter, pinned_ssl_context
from calendar_app.security.trusted_certificate_failure import (
    CERT_HAS_EXPIRED,
    CERT_NOT_YET_VALID,
    HOSTNAME_MISMATCH,
    IP_ADDRESS_MISMATCH,
    explain_trusted_certificate_failure,
)

DEFAULT_TIMEOUT_SECONDS = 20.0


class StepId(enum.Enum):
    RESOLVE = "Name resolves"
    TCP = "TCP connects"
    TLS = "TLS handshake"
    CERTIFICATE = "Certificate matches the keystore"
    LOGIN = "Sign-in (NTLM)"
    VERSION = "Server version"
    MAILBOX = "Impersonation of the rep's mailbox"
    CALENDAR = "Calendar readable"
    WRITE_PROBE = "Write probe (create and delete a private test item)"
    STREAMING = "Streaming subscription"


class Outcome(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class StepResult:
    step: StepId
    title: str
    outcome: Outcome
    detail: str  # what was found ("127.0.0.1", "TLSv1.3", "15.1.2507.6|Exchange2016")
    advice: str = ""  # for a failure: what it means and what to do
    seconds: float = 0.0
    value: str = ""  # machine-readable finding: the VERSION step's "build|api_version"

    @property
    def passed(self) -> bool:
        return self.outcome in (Outcome.PASSED, Outcome.SKIPPED)

    def line(self) -> str:
        mark = {Outcome.PASSED: "ok", Outcome.FAILED: "FAILED", Outcome.SKIPPED: "skipped",
                Outcome.CANCELLED: "cancelled"}[self.outcome]
        text = f"{self.title:<55} {mark:<9} {self.seconds:6.2f} s  {self.detail}"
        return text + (f"\n    → {self.advice}" if self.advice else "")


@dataclass(frozen=True)
class ConnectionTestRequest:
    ews_url: str
    mailbox: str
    username: str
    password: str = field(repr=False)
    trusted_certificates: tuple[x509.Certificate, ...]
    sign_in_mode: SignInMode = SignInMode.IMPERSONATION
    auth_type: AuthType = AuthType.NTLM
    write_probe: bool = True
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS


def step_title(step: StepId, request: ConnectionTestRequest) -> str:
    if step is StepId.LOGIN:
        return f"Sign-in ({request.auth_type.value})"
    if step is StepId.MAILBOX and request.sign_in_mode is SignInMode.OWN_ACCOUNT:
        return "Access to the rep's own mailbox"
    return str(step.value)


class _StepFailed(Exception):
    def __init__(self, detail: str, advice: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.advice = advice


@dataclass
class _Context:
    request: ConnectionTestRequest
    endpoint: EwsEndpoint | None = None
    address: tuple[str, int] | None = None
    chain: CapturedChain | None = None
    probe: ExchangeProbe | None = None
    server_version: str = ""


def run_connection_test(request: ConnectionTestRequest,
                        cancel: threading.Event | None = None) -> Iterator[StepResult]:
    register_secret(request.password)
    context = _Context(request)
    steps: list[tuple[StepId, Callable[[_Context], str]]] = [
        (StepId.RESOLVE, _resolve), (StepId.TCP, _tcp), (StepId.TLS, _tls), (StepId.CERTIFICATE, _certificate),
        (StepId.LOGIN, _login), (StepId.VERSION, _version), (StepId.MAILBOX, _mailbox),
        (StepId.CALENDAR, _calendar), (StepId.WRITE_PROBE, _write_probe), (StepId.STREAMING, _streaming),
    ]
    try:
        for step, action in steps:
            title = step_title(step, request)
            if cancel is not None and cancel.is_set():
                yield StepResult(step, title, Outcome.CANCELLED, "cancelled before this step")
                return
            if step is StepId.WRITE_PROBE and not request.write_probe:
                yield StepResult(step, title, Outcome.SKIPPED, "skipped as asked")
                continue
            started = time.monotonic()
            try:
                detail = action(context)
            except _StepFailed as failure:
                yield StepResult(step, title, Outcome.FAILED, failure.detail, failure.advice,
                                 time.monotonic() - started)
                return
            value = context.server_version if step is StepId.VERSION else ""
            yield StepResult(step, title, Outcome.PASSED, detail, seconds=time.monotonic() - started, value=value)
    finally:
        if context.probe is not None:
            context.probe.close()


def server_version_of(results: list[StepResult]) -> str:
    """The 'build|api_version' the VERSION step read, for the settings to pin."""
    for result in results:
        if result.step is StepId.VERSION and result.outcome is Outcome.PASSED:
            return result.value
    return ""


# ------------------------------------------------------------------------------------ network steps
def _resolve(context: _Context) -> str:
    try:
        context.endpoint = parse_ews_url(context.request.ews_url)
    except InvalidEwsUrlError as error:
        raise _StepFailed("the URL is not usable", str(error)) from error
    endpoint = context.endpoint
    try:
        infos = socket.getaddrinfo(endpoint.host, endpoint.port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise _StepFailed(f"{endpoint.host}: {error.strerror}",
                          f"The server name {endpoint.host!r} does not resolve. Check its spelling in the EWS "
                          "URL, and that this computer is on the company network or VPN.") from error
    family_address = infos[0][4]
    context.address = (str(family_address[0]), int(family_address[1]))
    return ", ".join(sorted({str(info[4][0]) for info in infos}))


def _tcp(context: _Context) -> str:
    assert context.endpoint is not None and context.address is not None
    endpoint = context.endpoint
    try:
        with socket.create_connection(context.address, timeout=context.request.timeout_seconds):
            pass
    except ConnectionRefusedError as error:
        raise _StepFailed(f"{endpoint.address} refused the connection",
                          f"Nothing accepts connections on port {endpoint.port}: the server is down, the port in "
                          "the URL is wrong (EWS normally uses 443), or a firewall rejects it.") from error
    except TimeoutError as error:
        raise _StepFailed(f"no answer from {endpoint.address}",
                          f"{endpoint.address} did not answer within {context.request.timeout_seconds:g} s: a "
                          "firewall may drop the traffic, or the server is not reachable from this network "
                          "(VPN?).") from error
    except OSError as error:
        raise _StepFailed(f"{endpoint.address}: {error.strerror or error}",
                          "The server cannot be reached from this computer: check the network and the "
                          "URL.") from error
    return endpoint.address


def _tls(context: _Context) -> str:
    assert context.endpoint is not None
    try:
        context.chain = capture_chain(context.endpoint, context.request.timeout_seconds)
    except CaptureError as error:
        raise _StepFailed("no TLS handshake", str(error)) from error
    return f"{context.chain.tls_version}, {context.chain.cipher}"


def _certificate(context: _Context) -> str:
    assert context.endpoint is not None and context.chain is not None and context.address is not None
    trusted = context.request.trusted_certificates
    if not trusted:
        raise _StepFailed("the keystore holds no certificate",
                          "Create or upload a keystore with the server's certificate first (Keystore step).")
    presented = context.chain.leaf
    presented_sha = sha256_fingerprint(presented)
    try:
        pinned_handshake(context.endpoint, context.address, trusted, context.request.timeout_seconds)
    except ssl.SSLCertVerificationError as error:
        if presented in trusted:
            raise _StepFailed(
                _trusted_but_refused(presented, context.endpoint.host, error.verify_code),
                explain_trusted_certificate_failure(presented, context.endpoint.host, error.verify_code,
                                                    error.verify_message)) from error
        pinned = ", ".join(sha256_fingerprint(c) for c in trusted)
        raise _StepFailed(
            f"the server presents SHA-256 {presented_sha}",
            f"The server's certificate (SHA-256 {presented_sha}) is not the one in the keystore (the keystore "
            f"trusts SHA-256 {pinned}). "
            "Either the keystore was made from another server's certificate, or the server's certificate was "
            "replaced. Go back to the Server certificate step, check the certificate with your Exchange admin, "
            "and create the keystore again; if nobody changed it, someone may be intercepting the "
            "connection.") from error
    except (OSError, ssl.SSLError) as error:
        raise _StepFailed(f"handshake failed: {error}", "The server closed the verified connection; try "
                          "again, and check the URL's port.") from error
    return f"SHA-256 {presented_sha[:23]}…"


def _trusted_but_refused(certificate: x509.Certificate, host: str, verify_code: int) -> str:
    if verify_code == CERT_HAS_EXPIRED:
        return f"the trusted certificate expired on {certificate.not_valid_after_utc:%Y-%m-%d}"
    if verify_code == CERT_NOT_YET_VALID:
        return f"the trusted certificate is not valid before {certificate.not_valid_before_utc:%Y-%m-%d}"
    if verify_code in (HOSTNAME_MISMATCH, IP_ADDRESS_MISMATCH):
        return f"the trusted certificate does not name {host}"
    return "the trusted certificate does not pass verification"


def pinned_handshake(endpoint: EwsEndpoint, address: tuple[str, int], trusted: tuple[x509.Certificate, ...],
                     timeout: float) -> None:
    """A TLS handshake trusting only `trusted`, with host name checking: what the sync connection does."""
    context = pinned_ssl_context(trusted)
    with socket.create_connection(address, timeout=timeout) as raw, \
            context.wrap_socket(raw, server_hostname=endpoint.host):
        pass


# ------------------------------------------------------------------------------------ EWS steps
def _login(context: _Context) -> str:
    request = context.request
    settings = ConnectionSettings(ews_url=context.endpoint.url if context.endpoint else request.ews_url,
                                  mailbox=request.mailbox, username=request.username,
                                  sign_in_mode=request.sign_in_mode, auth_type=request.auth_type,
                                  timeout_seconds=request.timeout_seconds)
    trusted = request.trusted_certificates
    context.probe = ExchangeProbe(settings, request.password, lambda: PinnedTlsAdapter(trusted))
    try:
        context.server_version = context.probe.sign_in()
    except ProbeFailure as failure:
        raise _StepFailed(failure.detail, _advice(failure, context)) from failure
    return f"signed in as {request.username}"


def _version(context: _Context) -> str:
    version = context.server_version
    build, _, api = version.partition("|")
    return f"{build} ({api})"


def _mailbox(context: _Context) -> str:
    assert context.probe is not None
    try:
        folder = context.probe.open_mailbox()
    except ProbeFailure as failure:
        raise _StepFailed(failure.detail, _advice(failure, context)) from failure
    how = "impersonating" if context.request.sign_in_mode is SignInMode.IMPERSONATION else "opened"
    return f"{how} {context.request.mailbox} ({folder})"


def _calendar(context: _Context) -> str:
    assert context.probe is not None
    try:
        count = context.probe.read_calendar()
    except ProbeFailure as failure:
        raise _StepFailed(failure.detail, _advice(failure, context)) from failure
    return f"{count} appointment(s) in the next 7 days"


def _write_probe(context: _Context) -> str:
    assert context.probe is not None
    try:
        context.probe.write_probe()
    except ProbeFailure as failure:
        raise _StepFailed(failure.detail, _advice(failure, context, writing=True)) from failure
    return "created and deleted a private test item"


def _streaming(context: _Context) -> str:
    assert context.probe is not None
    try:
        context.probe.streaming_subscription()
    except ProbeFailure as failure:
        raise _StepFailed(failure.detail, _advice(failure, context) + " Without streaming, changes made in "
                          "Outlook reach this app only by periodic polling.") from failure
    return "subscribed and unsubscribed"


def _advice(failure: ProbeFailure, context: _Context, *, writing: bool = False) -> str:
    request = context.request
    problem = failure.problem
    if problem is ProbeProblem.UNAUTHORIZED:
        return (f"401 — the password or user name is wrong, or {request.auth_type.value} is disabled on this "
                f"virtual directory. Check the user name ('{request.username}'; DOMAIN\\user or "
                "user@domain) and retype the password; if both are right, ask the Exchange admin whether "
                f"{request.auth_type.value} authentication is enabled on /EWS.")
    if problem is ProbeProblem.IMPERSONATION_DENIED:
        return (f"Exchange refused impersonation: {request.username} does not hold the ApplicationImpersonation "
                f"role for {request.mailbox}. Ask the Exchange admin to assign it (New-ManagementRoleAssignment "
                f"-Role ApplicationImpersonation -User {request.username}), or choose \"The rep's own account\" "
                "on the Authentication page.")
    if problem is ProbeProblem.NO_MAILBOX:
        return (f"There is no mailbox {request.mailbox} on this server. Check the rep's e-mail address on the "
                "Exchange server page.")
    if problem is ProbeProblem.ACCESS_DENIED:
        what = "write to" if writing else "open"
        return (f"{request.username} may not {what} the calendar of {request.mailbox}. Ask the Exchange admin "
                "for the rights" + (", or skip the write probe for a read-only check." if writing else "."))
    if problem is ProbeProblem.BUSY:
        return "Exchange is throttling requests (server busy). Wait a few minutes and run the test again."
    if problem is ProbeProblem.TIMEOUT:
        return (f"Exchange did not answer within {request.timeout_seconds:g} s. The server may be overloaded; "
                "try again later.")
    if problem is ProbeProblem.UNUSABLE_ANSWER:
        return failure.explanation
    if problem is ProbeProblem.TRANSPORT:
        return ("The connection to Exchange failed. Check that the URL ends in /EWS/Exchange.asmx and that the "
                "server is reachable, then run the test again.")
    return "Exchange answered with an error. Check the URL and the account, then run the test again."
