"""The security profile: the one keystore this app trusts for Exchange, kept in the app's data
folder (mode 0600) with its password in the OS keyring."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from calendar_app.security.keystore import (
    MAX_KEYSTORE_BYTES,
    Keystore,
    KeystoreError,
    KeystoreType,
    read_keystore,
)
from calendar_app.security.secret_store import KEYSTORE_PASSWORD, SecretStore

PROFILE_STEM = "truststore"


@dataclass(frozen=True)
class InstalledKeystore:
    path: Path
    keystore: Keystore
    warnings: tuple[str, ...]


def read_keystore_file(path: Path, password: str) -> Keystore:
    return _open(path, read_keystore_bytes(path), password)


def read_keystore_bytes(path: Path) -> bytes:
    """The file's bytes, refusing folders, missing files and anything over 1 MB before reading it."""
    try:
        size = path.stat().st_size
    except FileNotFoundError as error:
        raise KeystoreError(f"{path}: no such file.") from error
    except OSError as error:
        raise KeystoreError(f"{path}: cannot be read ({error.strerror}).") from error
    if path.is_dir():
        raise KeystoreError(f"{path} is a folder; give the keystore file (.p12, .pfx or .jks).")
    if size > MAX_KEYSTORE_BYTES:
        raise KeystoreError(f"{path} is larger than 1 MB: not a truststore for one server.")
    try:
        return path.read_bytes()
    except OSError as error:
        raise KeystoreError(f"{path}: cannot be read ({error.strerror}).") from error


def _open(path: Path, data: bytes, password: str) -> Keystore:
    try:
        return read_keystore(data, password)
    except KeystoreError as error:
        raise type(error)(f"{path}: {error}") from error


def validate_for_trust(keystore: Keystore, now: datetime | None = None) -> list[str]:
    """Refuse a keystore that cannot trust anything; return warnings for the rest."""
    if not keystore.trusted_certificates:
        kinds = ", ".join(sorted({e.kind.value for e in keystore.entries})) or "no entries at all"
        raise KeystoreError(f"The keystore holds no trusted certificate ({kinds}). Import the Exchange server's "
                            "certificate with 'calendar-app keystore create' or 'keytool -importcert'.")
    return keystore.warnings(now)


def install_keystore(source: Path, password: str, keystore_dir: Path, secret_store: SecretStore,
                     now: datetime | None = None) -> InstalledKeystore:
    """Validate `source`, then copy it into `keystore_dir` (0600) and put its password in the keyring.

    The previous profile stays untouched until the new keystore is fully written and its password
    stored, so a failure (e.g. a locked keyring) leaves a working set-up as it was."""
    data = read_keystore_bytes(source)  # read once: what is checked is exactly what is copied
    keystore = _open(source, data, password)
    warnings = validate_for_trust(keystore, now)
    keystore_dir.mkdir(parents=True, exist_ok=True)
    keystore_dir.chmod(0o700)
    target = keystore_dir / f"{PROFILE_STEM}{keystore.store_type.suffix}"
    temporary = keystore_dir / f".{target.name}.part"
    _write_private(temporary, data)
    try:
        secret_store.set(KEYSTORE_PASSWORD, password)
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    for other in KeystoreType:
        if other is not keystore.store_type:
            (keystore_dir / f"{PROFILE_STEM}{other.suffix}").unlink(missing_ok=True)
    return InstalledKeystore(path=target, keystore=keystore, warnings=tuple(warnings))


def installed_keystore_path(keystore_dir: Path) -> Path | None:
    for store_type in KeystoreType:
        candidate = keystore_dir / f"{PROFILE_STEM}{store_type.suffix}"
        if candidate.is_file():
            return candidate
    return None


def load_installed_keystore(keystore_dir: Path, secret_store: SecretStore) -> Keystore:
    """The profile's keystore, opened with the password from the keyring (for the Exchange connection)."""
    path = installed_keystore_path(keystore_dir)
    if path is None:
        raise KeystoreError("No keystore has been uploaded yet. Run the set-up wizard's Keystore step "
                            "(or 'calendar-app keystore upload FILE').")
    password = secret_store.get(KEYSTORE_PASSWORD)
    if password is None:
        raise KeystoreError("The keystore's password is missing from the system keyring. Upload the keystore "
                            "again with its password.")
    keystore = read_keystore_file(path, password)
    validate_for_trust(keystore)
    return keystore


def _write_private(path: Path, data: bytes) -> None:
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            descriptor = -1
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    finally:
        if descriptor != -1:
            with contextlib.suppress(OSError):
                os.close(descriptor)
    path.chmod(0o600)  # O_CREAT's mode is masked by the umask; be explicit
