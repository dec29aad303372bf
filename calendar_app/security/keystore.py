"""Java-compatible keystores: write truststores keytool accepts, read what keytool writes.

PKCS#12 (keytool's default since Java 9) is written with cryptography's Java-truststore
serializer, which adds the Java "trusted certificate" attribute keytool looks for. JKS (magic
FEEDFEED) is read and written with pyjks. Both check the store password before trusting a byte.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import jks
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from calendar_app.logging_setup import register_secret
from calendar_app.security.certificate_details import EXPIRY_WARNING_DAYS, sha256_fingerprint

MAX_KEYSTORE_BYTES = 1024 * 1024
MIN_PASSWORD_LENGTH = 6  # keytool refuses shorter store passwords

_JKS_MAGIC = b"\xfe\xed\xfe\xed"
_JCEKS_MAGIC = b"\xce\xce\xce\xce"
_ALIAS = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")


class KeystoreType(enum.Enum):
    PKCS12 = "pkcs12"
    JKS = "jks"

    @property
    def suffix(self) -> str:
        return ".p12" if self is KeystoreType.PKCS12 else ".jks"


class EntryKind(enum.Enum):
    TRUSTED_CERTIFICATE = "trustedCertEntry"
    PRIVATE_KEY = "PrivateKeyEntry"
    SECRET_KEY = "SecretKeyEntry"  # noqa: S105 - keytool's name for the entry type


class KeystoreError(ValueError):
    """The keystore cannot be used. `str()` says what is wrong and what to do."""


class WrongKeystorePasswordError(KeystoreError):
    pass


@dataclass(frozen=True)
class KeystoreEntry:
    alias: str
    kind: EntryKind
    certificate: x509.Certificate | None  # for a private-key entry: its own certificate

    @property
    def sha256(self) -> str:
        return sha256_fingerprint(self.certificate) if self.certificate else ""

    @property
    def not_after(self) -> datetime | None:
        return self.certificate.not_valid_after_utc if self.certificate else None

    def row(self) -> tuple[str, str, str, str]:
        """alias, type, SHA-256 fingerprint, expiry — what `keytool -list` shows."""
        expiry = f"{self.not_after:%Y-%m-%d}" if self.not_after else ""
        return self.alias, self.kind.value, self.sha256, expiry


@dataclass(frozen=True)
class Keystore:
    store_type: KeystoreType
    entries: tuple[KeystoreEntry, ...]

    @property
    def trusted_certificates(self) -> tuple[x509.Certificate, ...]:
        """Only trusted-certificate entries count for trust; a private-key entry is listed, never trusted."""
        return tuple(e.certificate for e in self.entries
                     if e.kind is EntryKind.TRUSTED_CERTIFICATE and e.certificate is not None)

    def warnings(self, now: datetime | None = None) -> list[str]:
        moment = now or datetime.now(UTC)
        found: list[str] = []
        for entry in self.entries:
            if entry.kind is not EntryKind.TRUSTED_CERTIFICATE:
                found.append(f"'{entry.alias}' is a {entry.kind.value}: listed, but not used to trust servers.")
                continue
            assert entry.certificate is not None
            not_after = entry.certificate.not_valid_after_utc
            if not_after < moment:
                found.append(f"'{entry.alias}' expired on {not_after:%Y-%m-%d}: the server cannot be trusted "
                             "with it. Capture the server's current certificate and build a new keystore.")
            elif (not_after - moment).days <= EXPIRY_WARNING_DAYS:
                found.append(f"'{entry.alias}' expires in {(not_after - moment).days} days ({not_after:%Y-%m-%d}): "
                             "plan a new keystore before then.")
        return found


@dataclass(frozen=True)
class TrustedCertificate:
    alias: str
    certificate: x509.Certificate


def normalise_alias(alias: str) -> str:
    """Java keystores compare aliases without case and keytool lists them in lower case."""
    cleaned = alias.strip().lower()
    if not _ALIAS.match(cleaned):
        raise KeystoreError(f"Alias {alias!r} is not usable: use 1–64 letters, digits, '.', '_', '-' or '@', "
                            "starting with a letter or digit (e.g. exchange-server).")
    return cleaned


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise KeystoreError(f"The keystore password must be at least {MIN_PASSWORD_LENGTH} characters "
                            "(keytool refuses shorter ones).")


def create_truststore(certificates: Sequence[TrustedCertificate], password: str,
                      store_type: KeystoreType = KeystoreType.PKCS12) -> bytes:
    """A truststore with one trusted-certificate entry per certificate, protected by `password`."""
    if not certificates:
        raise KeystoreError("A truststore needs at least one certificate.")
    check_new_password(password)
    register_secret(password)
    aliases = [normalise_alias(c.alias) for c in certificates]
    if len(set(aliases)) != len(aliases):
        raise KeystoreError("Two certificates have the same alias; every entry needs its own.")
    if store_type is KeystoreType.PKCS12:
        return pkcs12.serialize_java_truststore(
            [pkcs12.PKCS12Certificate(c.certificate, alias.encode("utf-8"))
             for c, alias in zip(certificates, aliases, strict=True)],
            serialization.BestAvailableEncryption(password.encode("utf-8")),
        )
    entries = [jks.TrustedCertEntry.new(alias, c.certificate.public_bytes(serialization.Encoding.DER))
               for c, alias in zip(certificates, aliases, strict=True)]
    data: bytes = jks.KeyStore.new("jks", entries).saves(password)
    return data


def detect_type(data: bytes) -> KeystoreType:
    if data[:4] == _JKS_MAGIC:
        return KeystoreType.JKS
    if data[:4] == _JCEKS_MAGIC:
        raise KeystoreError("This is a JCEKS keystore, which is not supported. Convert it with "
                            "'keytool -importkeystore -srcstoretype JCEKS -deststoretype PKCS12 ...'.")
    if data[:1] == b"\x30":
        return KeystoreType.PKCS12
    if b"-----BEGIN" in data[:200]:
        raise KeystoreError("This is a PEM text file (a certificate?), not a keystore. Build a keystore from it "
                            "with 'calendar-app keystore create --cert FILE ...'.")
    raise KeystoreError("Unknown keystore type: neither PKCS#12 (.p12/.pfx) nor JKS. Give a keystore made by "
                        "keytool or by 'calendar-app keystore create'.")


def read_keystore(data: bytes, password: str) -> Keystore:
    """Open a keystore, verifying its integrity with `password`; list every entry."""
    register_secret(password)
    if not data:
        raise KeystoreError("The keystore file is empty.")
    if len(data) > MAX_KEYSTORE_BYTES:
        raise KeystoreError("The file is larger than 1 MB: not a truststore for one server.")
    store_type = detect_type(data)
    if store_type is KeystoreType.JKS:
        return _read_jks(data, password)
    return _read_pkcs12(data, password)


def _read_pkcs12(data: bytes, password: str) -> Keystore:
    _check_der_length(data)
    try:
        bundle = pkcs12.load_pkcs12(data, password.encode("utf-8"))
    except UnsupportedAlgorithm as error:
        raise KeystoreError("The PKCS#12 keystore uses an encryption this app does not support (an old RC2/RC4 "
                            "scheme?). Re-create it with keytool -importkeystore -deststoretype PKCS12.") from error
    except ValueError as error:
        if "deserialize" in str(error):
            raise KeystoreError("The PKCS#12 keystore is damaged (it cannot be decoded). Copy it again or "
                                "rebuild it.") from error
        raise WrongKeystorePasswordError("Wrong keystore password (or the file was altered): the integrity "
                                         "check failed. Type the password given when the keystore was made.") \
            from error
    entries: list[KeystoreEntry] = []
    if bundle.key is not None or bundle.cert is not None:
        own = bundle.cert
        alias = _alias_text(own.friendly_name if own else None, "(private key)")
        entries.append(KeystoreEntry(alias, EntryKind.PRIVATE_KEY if bundle.key is not None
                                     else EntryKind.TRUSTED_CERTIFICATE, own.certificate if own else None))
    for extra in bundle.additional_certs:
        # Java gives every trusted-certificate entry a friendly name (its alias); the CA
        # certificates of a private key's chain carry none, and they are not trusted entries.
        if extra.friendly_name is None:
            continue
        entries.append(KeystoreEntry(_alias_text(extra.friendly_name, ""), EntryKind.TRUSTED_CERTIFICATE,
                                     extra.certificate))
    return Keystore(KeystoreType.PKCS12, tuple(entries))


def _read_jks(data: bytes, password: str) -> Keystore:
    try:
        store = jks.KeyStore.loads(data, password, try_decrypt_keys=False)
    except jks.KeystoreSignatureException as error:
        raise WrongKeystorePasswordError("Wrong keystore password (or the file was altered): the integrity "
                                         "check failed. Type the password given when the keystore was made.") \
            from error
    except (jks.KeystoreException, ValueError, IndexError, EOFError) as error:
        raise KeystoreError(f"The JKS keystore is damaged or truncated ({error}). Copy it again or rebuild it.") \
            from error
    except Exception as error:  # pyjks raises struct.error and others on cut-off data
        raise KeystoreError("The JKS keystore is damaged or truncated. Copy it again or rebuild it.") from error
    if store.store_type != "jks":
        raise KeystoreError(f"Unsupported keystore type {store.store_type!r}; convert it to PKCS#12 with keytool.")
    entries: list[KeystoreEntry] = []
    for alias, trusted in sorted(store.certs.items()):
        entries.append(KeystoreEntry(alias, EntryKind.TRUSTED_CERTIFICATE, _der_certificate(trusted.cert)))
    for alias, private in sorted(store.private_keys.items()):
        chain = private.cert_chain
        entries.append(KeystoreEntry(alias, EntryKind.PRIVATE_KEY, _der_certificate(chain[0][1]) if chain else None))
    for alias in sorted(store.secret_keys):
        entries.append(KeystoreEntry(alias, EntryKind.SECRET_KEY, None))
    return Keystore(KeystoreType.JKS, tuple(entries))


def _der_certificate(der: bytes) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError as error:
        raise KeystoreError(f"An entry's certificate is damaged ({error}). Rebuild the keystore.") from error


def _alias_text(name: bytes | None, fallback: str) -> str:
    return name.decode("utf-8", "replace").lower() if name else fallback


def _check_der_length(data: bytes) -> None:
    """A PKCS#12 file is one DER SEQUENCE; its header says how long it must be."""
    if len(data) < 2:
        raise KeystoreError("The keystore is truncated (too short). Copy it again.")
    first = data[1]
    if first < 0x80:
        header, length = 2, first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or len(data) < 2 + count:
            raise KeystoreError("The keystore is damaged: not a PKCS#12 structure. Copy it again.")
        header, length = 2 + count, int.from_bytes(data[2:2 + count], "big")
    if len(data) < header + length:
        raise KeystoreError(f"The keystore is truncated: {len(data)} of {header + length} bytes. Copy it again "
                            "(in binary mode).")
    if len(data) > header + length:
        raise KeystoreError("The keystore has unexpected data after its end: it is damaged. Copy it again "
                            "(in binary mode).")
