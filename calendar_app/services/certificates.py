"""Use cases for the wizard's "Server certificate" page and `calendar-app cert`: capture the
chain a server presents, judge it, save it like "Copy to File", open certificate files."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from calendar_app.security.certificate_capture import DEFAULT_TIMEOUT_SECONDS, CapturedChain, capture_chain
from calendar_app.security.certificate_details import CertificateDetails, describe_certificate
from calendar_app.security.certificate_files import (
    ExportFormat,
    export_certificates,
    read_certificate_file,
    write_certificate_file,
)
from calendar_app.security.chain_assessment import ChainAssessment, assess_chain
from calendar_app.security.ews_url import parse_ews_url

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerCertificates:
    captured: CapturedChain
    assessment: ChainAssessment

    @property
    def notes(self) -> tuple[str, ...]:
        """Corrections made to the URL the admin typed, to show next to it."""
        return self.captured.endpoint.notes

    @property
    def certificates(self) -> tuple[x509.Certificate, ...]:
        return self.captured.certificates


def fetch_server_certificates(url: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> ServerCertificates:
    """Raises InvalidEwsUrlError or CaptureError, each with a message for the admin."""
    endpoint = parse_ews_url(url)
    captured = capture_chain(endpoint, timeout)
    assessment = assess_chain(captured.certificates, endpoint.host)
    log.info("captured %d certificate(s) from %s (%s); server certificate SHA-256 %s; host matches: %s; "
             "trusted by the system: %s", len(captured.certificates), endpoint.address, captured.tls_version,
             assessment.certificates[0].sha256, assessment.matches_host, assessment.trusted_by_system)
    return ServerCertificates(captured, assessment)


def save_certificates(certificates: Sequence[x509.Certificate], path: Path, *, der: bool = False,
                      whole_chain: bool = False) -> str:
    """Write the file; returns what was written, in words. Raises CertificateFileError or OSError."""
    fmt = ExportFormat.DER if der else ExportFormat.PEM
    data = export_certificates(certificates, fmt, whole_chain)
    write_certificate_file(path, data)
    what = f"the whole chain ({len(certificates)} certificates)" if whole_chain else "the server certificate"
    kind = "DER encoded binary X.509" if der else "Base-64 encoded X.509 (PEM)"
    return f"{kind}, {what}"


def open_certificate_file(path: Path) -> list[CertificateDetails]:
    """Raises CertificateFileError with a message naming the file."""
    return [describe_certificate(c) for c in read_certificate_file(path)]
