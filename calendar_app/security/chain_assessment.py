"""Verdicts on a presented chain: host name, system trust, expiry. Informational — the app itself
trusts only the keystore (see pinned_transport), but an admin deciding what to trust needs these."""

from __future__ import annotations

import ipaddress
import ssl
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from OpenSSL import crypto

from calendar_app.security.certificate_details import (
    EXPIRY_WARNING_DAYS,
    CertificateDetails,
    describe_certificate,
    dns_names_and_addresses,
)


@dataclass(frozen=True)
class ChainAssessment:
    host: str
    matches_host: bool
    host_detail: str
    trusted_by_system: bool
    trust_detail: str
    certificates: tuple[CertificateDetails, ...]

    @property
    def expired(self) -> tuple[CertificateDetails, ...]:
        return tuple(c for c in self.certificates if c.expired)

    @property
    def not_yet_valid(self) -> tuple[CertificateDetails, ...]:
        return tuple(c for c in self.certificates if c.not_yet_valid)

    @property
    def expiring_soon(self) -> tuple[CertificateDetails, ...]:
        return tuple(c for c in self.certificates if c.expiring_soon)

    def warnings(self) -> list[str]:
        """Plain sentences for everything an admin should think about before trusting."""
        found: list[str] = []
        if not self.matches_host:
            found.append(f"The certificate does not match the host name: {self.host_detail}")
        if not self.trusted_by_system:
            found.append(f"Not trusted by this computer's certificate store: {self.trust_detail}")
        found.extend(f"Expired: '{c.subject_common_name}' expired on {c.not_after:%Y-%m-%d}." for c in self.expired)
        found.extend(f"Not valid yet: '{c.subject_common_name}' starts on {c.not_before:%Y-%m-%d}."
                     for c in self.not_yet_valid)
        found.extend(f"Expires soon: '{c.subject_common_name}' expires in {c.days_left} days "
                     f"({c.not_after:%Y-%m-%d})." for c in self.expiring_soon)
        found.extend(f"Self-signed: '{c.subject_common_name}' vouches for itself only."
                     for c in self.certificates[:1] if c.is_self_signed)
        return found

    def rows(self) -> list[tuple[str, str]]:
        expiry = [c for c in self.certificates if c.expired or c.not_yet_valid or c.expiring_soon]
        return [
            ("Host name", f"{'matches' if self.matches_host else 'DOES NOT MATCH'} — {self.host_detail}"),
            ("Trusted by this computer", f"{'yes' if self.trusted_by_system else 'no'} — {self.trust_detail}"),
            ("Validity", "; ".join(f"{c.subject_common_name}: {c.validity_text()}" for c in expiry)
             or f"all certificates valid for more than {EXPIRY_WARNING_DAYS} days"),
        ]


def assess_chain(chain: Sequence[x509.Certificate], host: str, now: datetime | None = None) -> ChainAssessment:
    """`chain[0]` is the server's own certificate, the rest as the server sent them."""
    if not chain:
        raise ValueError("an empty chain cannot be assessed")
    moment = now or datetime.now(UTC)
    matches, host_detail = match_host_name(chain[0], host)
    trusted, trust_detail = verify_with_system_store(chain, moment)
    return ChainAssessment(
        host=host, matches_host=matches, host_detail=host_detail,
        trusted_by_system=trusted, trust_detail=trust_detail,
        certificates=tuple(describe_certificate(c, moment) for c in chain),
    )


def match_host_name(certificate: x509.Certificate, host: str) -> tuple[bool, str]:
    """RFC 6125 as modern TLS clients apply it: subject alternative names only (no common-name
    fallback), one wildcard as the whole left-most label, never for IP addresses."""
    dns_names, addresses = dns_names_and_addresses(certificate)
    if not dns_names and not addresses:
        return False, "the certificate lists no subject alternative names, which current clients require"
    try:
        wanted_ip: str | None = str(ipaddress.ip_address(host))
    except ValueError:
        wanted_ip = None
    if wanted_ip is not None:
        if wanted_ip in addresses:
            return True, f"{host} is listed as IP:{wanted_ip}"
    else:
        wanted = host.lower().rstrip(".")
        for pattern in dns_names:
            if _dns_name_matches(pattern.lower().rstrip("."), wanted):
                return True, f"{host} is covered by DNS:{pattern}"
    listed = ", ".join([f"DNS:{n}" for n in dns_names] + [f"IP:{a}" for a in addresses])
    return False, f"{host} is not among {listed}"


def _dns_name_matches(pattern: str, host: str) -> bool:
    if pattern == host:
        return True
    if not pattern.startswith("*."):
        return False
    suffix = pattern[1:]  # ".example.com"
    # The wildcard stands for exactly one label, and never for a whole public suffix like "*.com".
    return (host.endswith(suffix) and "." not in host[: -len(suffix)] and len(host) > len(suffix)
            and suffix.count(".") >= 2)


def verify_with_system_store(chain: Sequence[x509.Certificate], now: datetime) -> tuple[bool, str]:
    """Verify the chain as this computer's default TLS clients would (OpenSSL's default verify
    paths, which honour SSL_CERT_FILE / SSL_CERT_DIR), ignoring the host name."""
    store = crypto.X509Store()
    _load_system_roots(store)
    store.set_time(now.replace(tzinfo=None))
    leaf = crypto.X509.from_cryptography(chain[0])
    intermediates = [crypto.X509.from_cryptography(c) for c in chain[1:]]
    try:
        crypto.X509StoreContext(store, leaf, intermediates).verify_certificate()
    except crypto.X509StoreContextError as error:
        return False, f"{error.args[0] if error.args else error}"
    return True, "the chain leads to a certificate authority this computer trusts"


def _load_system_roots(store: crypto.X509Store) -> None:
    paths = ssl.get_default_verify_paths()
    cafile = paths.cafile if paths.cafile and Path(paths.cafile).is_file() else None
    capath = paths.capath if paths.capath and Path(paths.capath).is_dir() else None
    if cafile or capath:
        store.load_locations(cafile, capath)
        return
    # Windows and macOS keep their roots in the OS; Python's default context loads them.
    context = ssl.create_default_context()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few old roots have non-RFC-5280 serial numbers
        for der in context.get_ca_certs(binary_form=True):
            store.add_cert(crypto.X509.from_cryptography(x509.load_der_x509_certificate(der)))
