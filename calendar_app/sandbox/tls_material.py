"""The sandbox's TLS identity: a self-signed root CA and a leaf certificate it signs, generated on first start
and kept in the state folder, so a client (or the setup wizard) sees a realistic two-certificate chain.

The leaf names 127.0.0.1, localhost and this machine's host name. `generate_replacement` makes an unrelated
root and leaf, which the "changed certificate" fault presents instead."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_CA_FILE = "sandbox-root-ca.pem"
_CA_KEY_FILE = "sandbox-root-ca.key"
_LEAF_FILE = "sandbox-server.pem"
_LEAF_KEY_FILE = "sandbox-server.key"


@dataclass(frozen=True)
class TlsMaterial:
    chain_file: Path  # leaf first, then the root: what the server presents
    key_file: Path
    leaf_pem: bytes
    ca_pem: bytes

    @property
    def leaf(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.leaf_pem)

    @property
    def leaf_der(self) -> bytes:
        return self.leaf.public_bytes(serialization.Encoding.DER)

    @property
    def sha256_fingerprint(self) -> str:
        """Colon-separated upper-case hex, as certificate viewers and keytool print it."""
        return ":".join(f"{byte:02X}" for byte in self.leaf.fingerprint(hashes.SHA256()))

    @property
    def chain_pem(self) -> bytes:
        return self.leaf_pem + self.ca_pem

    def tls_server_end_point(self) -> bytes:
        """RFC 5929 channel binding data: the leaf's hash with its signature hash (MD5/SHA-1 become SHA-256)."""
        leaf = self.leaf
        algorithm = leaf.signature_hash_algorithm
        if algorithm is None or algorithm.name in ("md5", "sha1"):
            algorithm = hashes.SHA256()
        digest = hashes.Hash(algorithm)
        digest.update(self.leaf_der)
        return b"tls-server-end-point:" + digest.finalize()


def host_names(extra_host: str | None = None) -> list[str]:
    names = ["127.0.0.1", "localhost", socket.gethostname()]
    if extra_host and extra_host not in names and extra_host not in ("0.0.0.0", "::"):  # noqa: S104 - a name check
        names.append(extra_host)
    return names


def load_or_create(folder: Path, extra_host: str | None = None) -> TlsMaterial:
    """Reuse the root and leaf in `folder`; make what is missing. A leaf that does not cover the host names
    any more (another --host, a renamed machine) is re-issued by the same root."""
    folder.mkdir(parents=True, exist_ok=True)
    names = host_names(extra_host)
    ca_file, ca_key_file = folder / _CA_FILE, folder / _CA_KEY_FILE
    if ca_file.exists() and ca_key_file.exists():
        ca_cert = x509.load_pem_x509_certificate(ca_file.read_bytes())
        loaded_key = serialization.load_pem_private_key(ca_key_file.read_bytes(), password=None)
        if not isinstance(loaded_key, rsa.RSAPrivateKey):
            raise ValueError(f"{ca_key_file} is not an RSA key; delete the folder {folder} to start afresh")
        ca_key = loaded_key
    else:
        ca_cert, ca_key = _make_root("calendar-app sandbox root CA")
        _write(ca_key_file, _key_pem(ca_key), private=True)
        _write(ca_file, ca_cert.public_bytes(serialization.Encoding.PEM))
    leaf_file, leaf_key_file = folder / _LEAF_FILE, folder / _LEAF_KEY_FILE
    if not (leaf_file.exists() and leaf_key_file.exists() and _covers(leaf_file, names, ca_cert)):
        leaf_cert, leaf_key = _make_leaf(ca_cert, ca_key, names)
        _write(leaf_key_file, _key_pem(leaf_key), private=True)
        _write(leaf_file, leaf_cert.public_bytes(serialization.Encoding.PEM) + ca_cert.public_bytes(
            serialization.Encoding.PEM))
    chain = leaf_file.read_bytes()
    leaf_pem = chain[: chain.index(b"-----END CERTIFICATE-----") + len(b"-----END CERTIFICATE-----\n")]
    return TlsMaterial(leaf_file, leaf_key_file, leaf_pem, ca_file.read_bytes())


def generate_replacement(folder: Path, extra_host: str | None = None) -> TlsMaterial:
    """A different root and leaf for the same host names: what a client sees when the server's certificate
    was replaced (or someone is in the middle)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = _make_root("calendar-app sandbox replacement root CA")
    leaf_cert, leaf_key = _make_leaf(ca_cert, ca_key, host_names(extra_host))
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    leaf_pem = leaf_cert.public_bytes(serialization.Encoding.PEM)
    _write(folder / _LEAF_KEY_FILE, _key_pem(leaf_key), private=True)
    _write(folder / _LEAF_FILE, leaf_pem + ca_pem)
    return TlsMaterial(folder / _LEAF_FILE, folder / _LEAF_KEY_FILE, leaf_pem, ca_pem)


def _covers(leaf_file: Path, names: list[str], ca_cert: x509.Certificate) -> bool:
    leaf = x509.load_pem_x509_certificate(leaf_file.read_bytes())
    if leaf.issuer != ca_cert.subject or leaf.not_valid_after_utc < dt.datetime.now(dt.UTC) + dt.timedelta(days=7):
        return False
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    present = {str(ip) for ip in san.get_values_for_type(x509.IPAddress)} | set(san.get_values_for_type(x509.DNSName))
    return all(name in present for name in names)


def _make_root(common_name: str) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "calendar-app sandbox"),
    ])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _make_leaf(ca_cert: x509.Certificate, ca_key: rsa.RSAPrivateKey,
               names: list[str]) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    alt_names: list[x509.GeneralName] = []
    for host in names:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt_names.append(x509.DNSName(host))
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[-1] if len(names) > 3 else "localhost"),
                                 x509.NameAttribute(NameOID.ORGANIZATION_NAME, "calendar-app sandbox")]))
        .issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    descriptor = os.open(temporary, flags, 0o600 if private else 0o644)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    temporary.replace(path)
