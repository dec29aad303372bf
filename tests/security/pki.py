"""Test certificates (root → intermediate → leaf, made with cryptography) and real local servers:
`openssl s_server`, a Python HTTPS server, and sockets that misbehave. Everything on 127.0.0.1."""

from __future__ import annotations

import http.server
import ipaddress
import re
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class Issued:
    certificate: x509.Certificate
    key: PrivateKey

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Contoso Test"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def issue(common_name: str, *, issuer: Issued | None = None, ca: bool = False,
          dns_names: tuple[str, ...] = ("localhost",), ip_addresses: tuple[str, ...] = ("127.0.0.1",),
          not_before: datetime | None = None, not_after: datetime | None = None, rsa_key: bool = False) -> Issued:
    """A certificate signed by `issuer` (self-signed without one)."""
    now = datetime.now(UTC)
    key: PrivateKey = (rsa.generate_private_key(65537, 2048) if rsa_key
                       else ec.generate_private_key(ec.SECP256R1()))
    subject = _name(common_name)
    builder = (x509.CertificateBuilder()
               .subject_name(subject)
               .issuer_name(issuer.certificate.subject if issuer else subject)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before or now - timedelta(days=1))
               .not_valid_after(not_after or now + timedelta(days=365))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True)
    else:
        names: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
        names += [x509.IPAddress(ipaddress.ip_address(a)) for a in ip_addresses]
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        builder = builder.add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                                        critical=False)
    signer = issuer.key if issuer else key
    return Issued(builder.sign(signer, hashes.SHA256()), key)


@dataclass(frozen=True)
class Pki:
    root: Issued
    intermediate: Issued
    leaf: Issued

    @property
    def presented_chain(self) -> list[x509.Certificate]:
        return [self.leaf.certificate, self.intermediate.certificate]


def make_pki(label: str = "Test", **leaf_options: object) -> Pki:
    root = issue(f"{label} Root CA", ca=True)
    intermediate = issue(f"{label} Issuing CA", issuer=root, ca=True)
    leaf = issue("localhost", issuer=intermediate, rsa_key=True, **leaf_options)  # type: ignore[arg-type]
    return Pki(root, intermediate, leaf)


# ------------------------------------------------------------------ servers

@dataclass(frozen=True)
class RunningServer:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}/EWS/Exchange.asmx"

    @property
    def url_by_name(self) -> str:
        """The same server by its DNS name (localhost is in /etc/hosts: no network involved)."""
        return f"https://localhost:{self.port}/EWS/Exchange.asmx"


@contextmanager
def openssl_server(openssl: str, folder: Path, leaf: Issued, chain: list[Issued],
                   extra_args: tuple[str, ...] = ()) -> Iterator[RunningServer]:
    """`openssl s_server` presenting `leaf` and then `chain` (via -cert_chain)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "leaf.pem").write_bytes(leaf.pem)
    (folder / "leaf.key").write_bytes(leaf.key_pem)
    (folder / "chain.pem").write_bytes(b"".join(c.pem for c in chain))
    command = [openssl, "s_server", "-accept", "127.0.0.1:0", "-www",
               "-cert", str(folder / "leaf.pem"), "-key", str(folder / "leaf.key")]
    if chain:
        command += ["-cert_chain", str(folder / "chain.pem")]
    command += extra_args
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               text=True)
    drain: threading.Thread | None = None
    try:
        assert process.stdout is not None
        port = None
        for line in process.stdout:  # "ACCEPT 127.0.0.1:PORT" comes once the socket listens
            match = re.match(r"ACCEPT 127\.0\.0\.1:(\d+)", line)
            if match:
                port = int(match.group(1))
                break
        assert port, "openssl s_server did not report its port"
        # Keep reading what it logs per connection so a full pipe never blocks it.
        drain = threading.Thread(target=process.stdout.read, daemon=True)
        drain.start()
        yield RunningServer("127.0.0.1", port)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if drain is not None:
            drain.join(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


class _OkHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = self.server.greeting  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def https_server(folder: Path, leaf: Issued, chain: list[Issued], greeting: bytes) -> Iterator[RunningServer]:
    """A Python HTTPS server on 127.0.0.1 answering every GET with `greeting`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cert.pem").write_bytes(leaf.pem + b"".join(c.pem for c in chain))
    (folder / "key.pem").write_bytes(leaf.key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OkHandler)
    server.greeting = greeting  # type: ignore[attr-defined]
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield RunningServer("127.0.0.1", server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def silent_server() -> Iterator[RunningServer]:
    """Accepts TCP connections (the kernel does, via the backlog) and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield RunningServer("127.0.0.1", listener.getsockname()[1])


@contextmanager
def plain_http_server() -> Iterator[RunningServer]:
    """Speaks HTTP without TLS: answers the ClientHello with an HTTP error, like a port-80 server."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OkHandler)
    server.greeting = b"plain"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield RunningServer("127.0.0.1", server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
