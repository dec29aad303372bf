"""A TLS handshake on the loopback interface with a throw-away self-signed certificate.

It proves the TLS stack the app ships (Python's ssl over the bundled or system OpenSSL, plus
cryptography) works on this machine: a client that trusts exactly that certificate connects
with host name checking, and a client that trusts a different certificate is refused.
"""

from __future__ import annotations

import socket
import ssl
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOOPBACK = "127.0.0.1"
_GREETING = b"calendar-app self-test\n"


class TlsSelfTestError(Exception):
    """The loopback handshake did not behave as TLS must."""


@dataclass(frozen=True)
class HandshakeResult:
    tls_version: str
    cipher: str
    port: int
    openssl_version: str


def loopback_handshake(timeout_seconds: float = 10.0) -> HandshakeResult:
    with tempfile.TemporaryDirectory(prefix="calendar-app-tls-") as folder:
        trusted = _write_self_signed(Path(folder), "trusted")
        stranger = _write_self_signed(Path(folder), "stranger")
        result = _handshake(server=trusted, client_trusts=trusted[0], timeout_seconds=timeout_seconds)
        try:
            _handshake(server=trusted, client_trusts=stranger[0], timeout_seconds=timeout_seconds)
        except ssl.SSLCertVerificationError:
            pass  # what must happen: the certificate is not the one the client trusts
        else:
            raise TlsSelfTestError("a client that trusts a different certificate completed the handshake")
    return result


def _write_self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"calendar-app self-test {name}")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(IPv4Address(LOOPBACK))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    certificate_file = folder / f"{name}.pem"
    key_file = folder / f"{name}.key"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return certificate_file, key_file


def _handshake(*, server: tuple[Path, Path], client_trusts: Path, timeout_seconds: float) -> HandshakeResult:
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.minimum_version = ssl.TLSVersion.TLSv1_2
    server_context.load_cert_chain(certfile=server[0], keyfile=server[1])
    # Trust exactly this certificate; check_hostname and CERT_REQUIRED stay on (the defaults).
    client_context = ssl.create_default_context(cafile=str(client_trusts))
    with socket.create_server((LOOPBACK, 0)) as listener:
        listener.settimeout(timeout_seconds)
        port = int(listener.getsockname()[1])
        server_thread = threading.Thread(target=_serve_one, args=(listener, server_context), daemon=True)
        server_thread.start()
        try:
            with socket.create_connection((LOOPBACK, port), timeout=timeout_seconds) as raw, \
                    client_context.wrap_socket(raw, server_hostname=LOOPBACK) as connection:
                greeting = connection.recv(len(_GREETING))
                cipher = connection.cipher()
                version = connection.version()
        finally:
            server_thread.join(timeout_seconds)
    if greeting != _GREETING:
        raise TlsSelfTestError(f"the server's greeting arrived garbled: {greeting!r}")
    return HandshakeResult(tls_version=version or "?", cipher=cipher[0] if cipher else "?", port=port,
                           openssl_version=ssl.OPENSSL_VERSION)


def _serve_one(listener: socket.socket, context: ssl.SSLContext) -> None:
    try:
        raw, _address = listener.accept()
        with raw, context.wrap_socket(raw, server_side=True) as connection:
            connection.sendall(_GREETING)
    except (OSError, ssl.SSLError):
        return  # the client side reports what went wrong; a refused handshake ends here too
