"""Certificate files: "Copy to File" export (Base-64 X.509 / DER) and import of what admins have
(PEM, DER, PEM bundles, PKCS#7 .p7b)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

MAX_CERTIFICATE_FILE_BYTES = 1024 * 1024

_JKS_MAGIC = b"\xfe\xed\xfe\xed"
_JCEKS_MAGIC = b"\xce\xce\xce\xce"


class CertificateFileError(ValueError):
    """The file holds no usable certificate. `str()` names the file and what to do."""


class ExportFormat(enum.Enum):
    PEM = "pem"  # "Base-64 encoded X.509 (.CER)"
    DER = "der"  # "DER encoded binary X.509 (.CER)"


def export_certificates(chain: Sequence[x509.Certificate], fmt: ExportFormat = ExportFormat.PEM,
                        whole_chain: bool = False) -> bytes:
    """The leaf alone by default, like "Copy to File"; with `whole_chain` every certificate (PEM only)."""
    if not chain:
        raise ValueError("no certificate to export")
    selected = list(chain) if whole_chain else [chain[0]]
    if fmt is ExportFormat.DER:
        if len(selected) > 1:
            raise CertificateFileError("DER holds exactly one certificate: export the whole chain as PEM "
                                       "(Base-64), or export only the server's certificate as DER.")
        return selected[0].public_bytes(serialization.Encoding.DER)
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in selected)


def write_certificate_file(path: Path, data: bytes) -> None:
    """Certificates are public: an ordinary file, replaced atomically."""
    temporary = path.with_name(f".{path.name}.part")
    temporary.write_bytes(data)
    temporary.replace(path)


def read_certificate_file(path: Path) -> list[x509.Certificate]:
    try:
        size = path.stat().st_size
    except FileNotFoundError as error:
        raise CertificateFileError(f"{path}: no such file.") from error
    except OSError as error:
        raise CertificateFileError(f"{path}: cannot be read ({error.strerror}).") from error
    if path.is_dir():
        raise CertificateFileError(f"{path} is a folder; give the certificate file (.cer, .pem, .der, .p7b).")
    if size > MAX_CERTIFICATE_FILE_BYTES:
        raise CertificateFileError(f"{path} is {size // 1024} KB, larger than the 1 MB a certificate file "
                                   "can reasonably be: it is not a certificate. Export the server certificate "
                                   "again (Base-64 X.509).")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CertificateFileError(f"{path}: cannot be read ({error.strerror}).") from error
    try:
        return parse_certificates(data)
    except CertificateFileError as error:
        raise CertificateFileError(f"{path}: {error}") from error


def parse_certificates(data: bytes) -> list[x509.Certificate]:
    """PEM (one or many, also PKCS#7 in PEM), DER certificate or DER PKCS#7."""
    if len(data) > MAX_CERTIFICATE_FILE_BYTES:
        raise CertificateFileError("larger than 1 MB: not a certificate file.")
    if not data.strip():
        raise CertificateFileError("the file is empty. Export the server certificate again (Base-64 X.509).")
    if b"PRIVATE KEY-----" in data:
        raise CertificateFileError("this file holds a PRIVATE KEY, not a certificate. Keep it secret; give the "
                                   "server's certificate (.cer) instead.")
    if data[:4] in (_JKS_MAGIC, _JCEKS_MAGIC):
        raise CertificateFileError("this is a Java keystore, not a certificate. Use 'calendar-app keystore show' "
                                   "to look inside it, or upload it as the keystore.")
    if b"-----BEGIN" in data:
        return _parse_pem(data)
    return _parse_der(data)


def _parse_pem(data: bytes) -> list[x509.Certificate]:
    certificates: list[x509.Certificate] = []
    if b"-----BEGIN CERTIFICATE-----" in data or b"-----BEGIN X509 CERTIFICATE-----" in data:
        try:
            certificates.extend(x509.load_pem_x509_certificates(data))
        except ValueError as error:
            raise CertificateFileError(f"a PEM certificate block is damaged ({error}). Export it again.") from error
    if b"-----BEGIN PKCS7-----" in data:
        try:
            certificates.extend(pkcs7.load_pem_pkcs7_certificates(data))
        except ValueError as error:
            raise CertificateFileError(f"the PKCS#7 block is damaged ({error}). Export it again.") from error
    if not certificates:
        raise CertificateFileError("the PEM file holds no CERTIFICATE or PKCS7 block. Export the server "
                                   "certificate as Base-64 X.509.")
    return certificates


def _parse_der(data: bytes) -> list[x509.Certificate]:
    if data[:1] != b"\x30":  # every DER certificate and PKCS#7 starts with a SEQUENCE
        raise CertificateFileError("not a certificate: neither Base-64 (PEM) nor DER X.509 nor PKCS#7. "
                                   "Export the server certificate again (Base-64 X.509).")
    try:
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        pass
    try:
        certificates = pkcs7.load_der_pkcs7_certificates(data)
    except ValueError:
        certificates = []
    if certificates:
        return certificates
    if _is_der_private_key(data):
        raise CertificateFileError("this file holds a PRIVATE KEY, not a certificate. Keep it secret; give the "
                                   "server's certificate (.cer) instead.")
    raise CertificateFileError("not a certificate: the binary data is not DER X.509 or PKCS#7 (a keystore? "
                               "use 'calendar-app keystore show'). Export the server certificate again.")


def _is_der_private_key(data: bytes) -> bool:
    try:
        serialization.load_der_private_key(data, password=None)
    except TypeError:
        return True  # an encrypted private key: it asked for a password
    except (ValueError, UnsupportedAlgorithm):
        return False
    return True
