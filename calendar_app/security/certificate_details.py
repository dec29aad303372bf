"""What a certificate viewer's Details tab shows, as plain data the wizard and the CLI render."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtensionOID, NameOID

EXPIRY_WARNING_DAYS = 30


def fingerprint(certificate: x509.Certificate, algorithm: hashes.HashAlgorithm | None = None) -> str:
    """Upper-case hex pairs joined by colons, as keytool and Windows' viewer print them."""
    digest = certificate.fingerprint(algorithm or hashes.SHA256())
    return ":".join(f"{byte:02X}" for byte in digest)


def sha256_fingerprint(certificate: x509.Certificate) -> str:
    return fingerprint(certificate, hashes.SHA256())


def common_name(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if values:
        value = values[0].value
        return value if isinstance(value, str) else value.decode("utf-8", "replace")
    return name.rfc4514_string() or "(empty name)"


@dataclass(frozen=True)
class CertificateDetails:
    subject: str
    subject_common_name: str
    issuer: str
    subject_alternative_names: tuple[str, ...]
    serial_number: str
    not_before: datetime
    not_after: datetime
    days_left: int  # negative once expired
    signature_algorithm: str
    public_key: str
    sha256: str
    sha1: str
    is_ca: bool
    is_self_signed: bool
    now: datetime

    @property
    def expired(self) -> bool:
        return self.now > self.not_after

    @property
    def not_yet_valid(self) -> bool:
        return self.now < self.not_before

    @property
    def expiring_soon(self) -> bool:
        return not self.expired and self.days_left <= EXPIRY_WARNING_DAYS

    def validity_text(self) -> str:
        if self.not_yet_valid:
            return f"not valid yet (starts {self.not_before:%Y-%m-%d})"
        if self.expired:
            return f"EXPIRED {-self.days_left} days ago"
        soon = " — expires soon" if self.expiring_soon else ""
        return f"{self.days_left} days left{soon}"

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) in the order a certificate viewer shows them."""
        return [
            ("Subject", self.subject),
            ("Issuer", self.issuer),
            ("Subject alternative names", ", ".join(self.subject_alternative_names) or "(none)"),
            ("Serial number", self.serial_number),
            ("Valid from", f"{self.not_before:%Y-%m-%d %H:%M:%S} UTC"),
            ("Valid until", f"{self.not_after:%Y-%m-%d %H:%M:%S} UTC"),
            ("Validity", self.validity_text()),
            ("Signature algorithm", self.signature_algorithm),
            ("Public key", self.public_key),
            ("SHA-256 fingerprint", self.sha256),
            ("SHA-1 fingerprint", self.sha1),
            ("Certificate authority", "yes" if self.is_ca else "no"),
            ("Self-signed", "yes" if self.is_self_signed else "no"),
        ]


def describe_certificate(certificate: x509.Certificate, now: datetime | None = None) -> CertificateDetails:
    moment = now or datetime.now(UTC)
    not_after = certificate.not_valid_after_utc
    return CertificateDetails(
        subject=certificate.subject.rfc4514_string() or "(empty)",
        subject_common_name=common_name(certificate.subject),
        issuer=certificate.issuer.rfc4514_string() or "(empty)",
        subject_alternative_names=_alternative_names(certificate),
        serial_number=_hex_pairs(certificate.serial_number),
        not_before=certificate.not_valid_before_utc,
        not_after=not_after,
        days_left=(not_after - moment).days,
        signature_algorithm=_signature_algorithm(certificate),
        public_key=_public_key_text(certificate),
        sha256=fingerprint(certificate, hashes.SHA256()),
        sha1=fingerprint(certificate, hashes.SHA1()),  # noqa: S303 - a fingerprint people compare, not a signature
        is_ca=_is_ca(certificate),
        is_self_signed=is_self_signed(certificate),
        now=moment,
    )


def is_self_signed(certificate: x509.Certificate) -> bool:
    if certificate.subject != certificate.issuer:
        return False
    try:
        certificate.verify_directly_issued_by(certificate)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _hex_pairs(number: int) -> str:
    text = f"{number:X}"
    if len(text) % 2:
        text = "0" + text
    return ":".join(text[i:i + 2] for i in range(0, len(text), 2))


def _alternative_names(certificate: x509.Certificate) -> tuple[str, ...]:
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return ()
    names: list[str] = []
    for general_name in extension.value:
        if isinstance(general_name, x509.DNSName):
            names.append(f"DNS:{general_name.value}")
        elif isinstance(general_name, x509.IPAddress):
            names.append(f"IP:{general_name.value}")
        elif isinstance(general_name, x509.RFC822Name):
            names.append(f"email:{general_name.value}")
        elif isinstance(general_name, x509.UniformResourceIdentifier):
            names.append(f"URI:{general_name.value}")
        else:
            names.append(f"{type(general_name).__name__}:{general_name.value}")
    return tuple(names)


def dns_names_and_addresses(certificate: x509.Certificate) -> tuple[list[str], list[str]]:
    try:
        extension = certificate.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    except x509.ExtensionNotFound:
        return [], []
    value = extension.value
    assert isinstance(value, x509.SubjectAlternativeName)
    return (value.get_values_for_type(x509.DNSName),
            [str(address) for address in value.get_values_for_type(x509.IPAddress)])


def _signature_algorithm(certificate: x509.Certificate) -> str:
    oid = certificate.signature_algorithm_oid
    name = getattr(oid, "_name", "") or ""
    return f"{name} ({oid.dotted_string})" if name and name != "Unknown OID" else oid.dotted_string


def _public_key_text(certificate: x509.Certificate) -> str:
    try:
        key = certificate.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return "unsupported key type"
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size} bits"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name} ({key.key_size} bits)"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519 (256 bits)"
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448 (456 bits)"
    if isinstance(key, dsa.DSAPublicKey):
        return f"DSA {key.key_size} bits"
    return type(key).__name__


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return False
    return constraints.value.ca
