"""HTTPS that trusts exactly the keystore's certificates, for one requests.Session.

Why an adapter: requests merges REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE into `Session.verify`
and urllib3 then *adds* that bundle to whatever SSLContext it is given. This adapter ignores
`verify` altogether, hands urllib3 its own context, and that context refuses — loudly — any
later attempt to load more roots, skip verification or stop checking host names. Mount it on a
session (`session.mount("https://", adapter)`); nothing process-wide changes.
"""

from __future__ import annotations

import inspect
import logging
import ssl
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from requests.exceptions import SSLError
from urllib3.connectionpool import ConnectionPool, HTTPConnectionPool
from urllib3.poolmanager import ProxyManager

from calendar_app.security.certificate_capture import CaptureError, capture_chain
from calendar_app.security.certificate_details import common_name, sha256_fingerprint
from calendar_app.security.ews_url import EwsEndpoint
from calendar_app.security.trusted_certificate_failure import explain_trusted_certificate_failure

PRESENTED_CAPTURE_TIMEOUT_SECONDS = 5.0

log = logging.getLogger(__name__)


class PinnedTlsError(Exception):
    """The server could not be verified against the keystore. `str()` is for the admin."""


class CertificateChangedError(PinnedTlsError):
    """The server presents a certificate the keystore does not hold (and that no keystore CA issued)."""

    def __init__(self, host: str, pinned_fingerprints: Sequence[str], presented_fingerprint: str | None,
                 presented_subject: str | None) -> None:
        self.host = host
        self.pinned_fingerprints = tuple(pinned_fingerprints)
        self.presented_fingerprint = presented_fingerprint
        self.presented_subject = presented_subject
        presented = (f"it now presents '{presented_subject}' with SHA-256 {presented_fingerprint}"
                     if presented_fingerprint else "its certificate could not be read")
        super().__init__(
            f"The server certificate of {host} is not the trusted one: {presented}; the keystore trusts SHA-256 "
            f"{', '.join(self.pinned_fingerprints)}. If your Exchange admin confirms the change, capture the new "
            "certificate and upload a new keystore; otherwise someone may be intercepting the connection.")


class TrustSettingRefusedError(PinnedTlsError):
    """Something tried to widen or switch off the pinned trust at run time."""


# The descriptors behind SSLContext's two verification switches, wrapped below.
_BASE_VERIFY_MODE: Any = inspect.getattr_static(ssl.SSLContext, "verify_mode")
_BASE_CHECK_HOSTNAME: Any = inspect.getattr_static(ssl.SSLContext, "check_hostname")


class _PinnedSSLContext(ssl.SSLContext):
    """An SSLContext whose trust cannot be changed after it is built."""

    _frozen = False

    def freeze(self) -> None:
        self._frozen = True

    def _refuse_when_frozen(self, what: str) -> None:
        if self._frozen:
            raise TrustSettingRefusedError(f"Refused to {what}: this connection trusts only the keystore's "
                                           "certificates.")

    def load_verify_locations(self, cafile: Any = None, capath: Any = None, cadata: Any = None) -> None:
        self._refuse_when_frozen("add certificate authorities")
        super().load_verify_locations(cafile, capath, cadata)

    def load_default_certs(self, purpose: ssl.Purpose = ssl.Purpose.SERVER_AUTH) -> None:
        self._refuse_when_frozen("load the system's certificate authorities")
        super().load_default_certs(purpose)

    def set_default_verify_paths(self) -> None:
        self._refuse_when_frozen("load the system's certificate authorities")
        super().set_default_verify_paths()

    @property  # type: ignore[override]
    def verify_mode(self) -> ssl.VerifyMode:
        return ssl.VerifyMode(_BASE_VERIFY_MODE.__get__(self))

    @verify_mode.setter
    def verify_mode(self, value: ssl.VerifyMode) -> None:
        if value != ssl.CERT_REQUIRED:
            self._refuse_when_frozen("turn certificate verification off")
        _BASE_VERIFY_MODE.__set__(self, value)

    @property
    def check_hostname(self) -> bool:
        return bool(_BASE_CHECK_HOSTNAME.__get__(self))

    @check_hostname.setter
    def check_hostname(self, value: bool) -> None:
        if not value:
            self._refuse_when_frozen("turn host name checking off")
        _BASE_CHECK_HOSTNAME.__set__(self, value)


def pinned_ssl_context(trusted: Iterable[x509.Certificate]) -> ssl.SSLContext:
    certificates = list(trusted)
    if not certificates:
        raise ValueError("a pinned context needs at least one trusted certificate")
    context = _PinnedSSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verify_mode CERT_REQUIRED, check_hostname on
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # Like Java's trust manager: a trusted server certificate is an anchor by itself, so a
    # keystore holding only the leaf (what keytool -importcert of the server's .cer gives) works.
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    context.load_verify_locations(cadata="".join(
        c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in certificates))
    context.freeze()
    return context


class PinnedTlsAdapter(HTTPAdapter):
    """HTTPS trusting exactly `trusted` (host names checked). Plain http:// is refused."""

    def __init__(self, trusted: Iterable[x509.Certificate], **adapter_options: Any) -> None:
        self._trusted = tuple(trusted)
        self._ssl_context = pinned_ssl_context(self._trusted)
        super().__init__(**adapter_options)

    @property
    def pinned_fingerprints(self) -> tuple[str, ...]:
        return tuple(sha256_fingerprint(c) for c in self._trusted)

    # -- where urllib3 gets its TLS settings -------------------------------------------------
    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        pool_kwargs["ssl_context"] = self._ssl_context
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> ProxyManager:
        proxy_kwargs["ssl_context"] = self._ssl_context
        manager: ProxyManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        return manager

    def get_connection_with_tls_context(self, request: PreparedRequest, verify: bool | str | None,
                                        proxies: Mapping[str, str] | None = None,
                                        cert: Any = None) -> ConnectionPool:
        self._refuse_plain_http(request.url)
        # Whatever the session (or the environment through it) says, verification is ours: no
        # CA bundle path reaches urllib3, and the pool manager's ssl_context is the pinned one.
        return super().get_connection_with_tls_context(request, True, proxies, None)

    def cert_verify(self, conn: HTTPConnectionPool, url: str, verify: bool | str | None, cert: Any) -> None:
        if cert:
            raise TrustSettingRefusedError("Client certificates are not supported on the pinned connection.")
        conn.cert_reqs = "CERT_REQUIRED"  # type: ignore[attr-defined]
        conn.ca_certs = None  # type: ignore[attr-defined]
        conn.ca_cert_dir = None  # type: ignore[attr-defined]

    # -- reporting a changed certificate ----------------------------------------------------
    def send(self, request: PreparedRequest, stream: bool = False, timeout: Any = None,  # noqa: PLR0917 - requests' signature
             verify: bool | str | None = True, cert: Any = None,
             proxies: Mapping[str, str] | None = None) -> Response:
        try:
            return super().send(request, stream=stream, timeout=timeout, verify=True, cert=cert, proxies=proxies)
        except SSLError as error:
            if _certificate_verification_failure(error) is None:
                raise
            explained = self._explain_verification_failure(request.url or "", error)
            log.error("pinned TLS refused the server: %s", explained)
            raise explained from error

    def _explain_verification_failure(self, url: str, error: SSLError) -> PinnedTlsError:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or 443
        presented: x509.Certificate | None = None
        try:
            # capture-only: a separate connection that reads the presented certificate to report it
            presented = capture_chain(EwsEndpoint(url=url, host=host, port=port),
                                      PRESENTED_CAPTURE_TIMEOUT_SECONDS).leaf
        except CaptureError:
            presented = None
        failure = _certificate_verification_failure(error)
        reason = failure.verify_message if failure is not None else str(error)
        if presented is not None and presented in self._trusted:
            return PinnedTlsError(explain_trusted_certificate_failure(
                presented, host, failure.verify_code if failure is not None else 0, reason))
        return CertificateChangedError(
            host, self.pinned_fingerprints,
            sha256_fingerprint(presented) if presented is not None else None,
            common_name(presented.subject) if presented is not None else None)

    @staticmethod
    def _refuse_plain_http(url: str | None) -> None:
        if not (url or "").lower().startswith("https://"):
            raise TrustSettingRefusedError(f"Refused to send {url!r} without TLS: the pinned connection is "
                                           "HTTPS only.")


def pinned_adapter_class(trusted: Iterable[x509.Certificate]) -> type[PinnedTlsAdapter]:
    """A PinnedTlsAdapter subclass bound to `trusted`, for libraries that build adapters from a
    class (exchangelib's `BaseProtocol.HTTP_ADAPTER_CLS`)."""
    bound = tuple(trusted)

    class BoundPinnedTlsAdapter(PinnedTlsAdapter):
        def __init__(self, **adapter_options: Any) -> None:
            super().__init__(bound, **adapter_options)

    return BoundPinnedTlsAdapter


def _certificate_verification_failure(error: BaseException) -> ssl.SSLCertVerificationError | None:
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return current
        pending.extend(arg for arg in current.args if isinstance(arg, BaseException))
        for linked in (current.__cause__, current.__context__, getattr(current, "reason", None)):
            if isinstance(linked, BaseException):
                pending.append(linked)
    return None


__all__ = [
    "CertificateChangedError",
    "PinnedTlsAdapter",
    "PinnedTlsError",
    "TrustSettingRefusedError",
    "pinned_adapter_class",
    "pinned_ssl_context",
]
