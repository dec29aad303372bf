"""Use cases for the wizard's "Keystore" page and `calendar-app keystore`: build a truststore
from certificate files, look inside a keystore, upload one into the security profile, and hand
the trusted certificates to the Exchange connection."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from calendar_app.security.certificate_details import sha256_fingerprint
from calendar_app.security.certificate_files import read_certificate_file
from calendar_app.security.keystore import (
    Keystore,
    KeystoreError,
    KeystoreType,
    TrustedCertificate,
    create_truststore,
    normalise_alias,
)
from calendar_app.security.secret_store import SecretStore
from calendar_app.security.security_profile import (
    InstalledKeystore,
    install_keystore,
    load_installed_keystore,
    read_keystore_file,
)
from calendar_app.store.app_paths import AppPaths

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedTruststore:
    entries: tuple[TrustedCertificate, ...]
    notes: tuple[str, ...]  # e.g. a duplicate certificate that was skipped


def plan_truststore(certificate_files: Sequence[Path], alias: str) -> PlannedTruststore:
    """Read every file; the first certificate gets `alias`, further ones `alias-2`, `alias-3`, …"""
    sources = [(str(path), certificate) for path in certificate_files for certificate in read_certificate_file(path)]
    return _plan(sources, alias)


def plan_truststore_from_certificates(certificates: Sequence[x509.Certificate], alias: str) -> PlannedTruststore:
    """The same from certificates in hand (e.g. the chain the wizard just captured)."""
    return _plan([("captured chain", c) for c in certificates], alias)


def _plan(sources: Sequence[tuple[str, x509.Certificate]], alias: str) -> PlannedTruststore:
    base = normalise_alias(alias)
    notes: list[str] = []
    if base != alias.strip():
        notes.append(f"Alias {alias.strip()!r} is stored as {base!r} (Java keystores ignore case in aliases).")
    unique: list[x509.Certificate] = []
    for source, certificate in sources:
        if certificate in unique:
            notes.append(f"{source}: skipped a certificate already added (SHA-256 {sha256_fingerprint(certificate)}).")
            continue
        unique.append(certificate)
    if not unique:
        raise KeystoreError("No certificate to put in the keystore.")
    entries = tuple(TrustedCertificate(base if index == 0 else f"{base}-{index + 1}", certificate)
                    for index, certificate in enumerate(unique))
    return PlannedTruststore(entries, tuple(notes))


def write_truststore(plan: PlannedTruststore, password: str, out: Path,
                     store_type: KeystoreType = KeystoreType.PKCS12) -> Path:
    """Write a new keystore file (never over an existing one). Raises KeystoreError or OSError."""
    data = create_truststore(plan.entries, password, store_type)
    try:
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as error:
        raise KeystoreError(f"{out} already exists; nothing was changed. Choose another --out file or remove "
                            "the old one first.") from error
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
    except BaseException:
        with contextlib.suppress(OSError):
            out.unlink()
        raise
    log.info("wrote %s keystore %s with aliases %s", store_type.name, out, ", ".join(e.alias for e in plan.entries))
    return out


def open_keystore(path: Path, password: str) -> Keystore:
    """Raises KeystoreError (WrongKeystorePasswordError for a wrong password)."""
    return read_keystore_file(path, password)


def upload_keystore(path: Path, password: str, *, paths: AppPaths | None = None,
                    secret_store: SecretStore | None = None) -> InstalledKeystore:
    """The security profile upload: validate, copy (0600) into the app data folder, password to the keyring."""
    folder = (paths or AppPaths.for_current_user()).keystore_dir
    installed = install_keystore(path, password, folder, secret_store or SecretStore())
    log.info("security profile: installed %s from %s (%d trusted certificate(s): %s)", installed.path, path,
             len(installed.keystore.trusted_certificates),
             ", ".join(sha256_fingerprint(c) for c in installed.keystore.trusted_certificates))
    for warning in installed.warnings:
        log.warning("security profile: %s", warning)
    return installed


def install_new_truststore(plan: PlannedTruststore, password: str,
                           store_type: KeystoreType = KeystoreType.PKCS12, *, paths: AppPaths | None = None,
                           secret_store: SecretStore | None = None) -> InstalledKeystore:
    """The wizard's path: build the truststore and make it the security profile in one step."""
    with tempfile.TemporaryDirectory(prefix="calendar-app-keystore-") as folder:
        built = write_truststore(plan, password, Path(folder) / f"new{store_type.suffix}", store_type)
        return upload_keystore(built, password, paths=paths, secret_store=secret_store)


def trusted_certificates_for_exchange(*, paths: AppPaths | None = None,
                                      secret_store: SecretStore | None = None) -> tuple[x509.Certificate, ...]:
    """What the pinned transport trusts: the uploaded keystore's trusted-certificate entries."""
    folder = (paths or AppPaths.for_current_user()).keystore_dir
    return load_installed_keystore(folder, secret_store or SecretStore()).trusted_certificates
