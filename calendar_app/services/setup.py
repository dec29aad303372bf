"""Saving a finished set-up: keystore (security profile), passwords (keyring), settings file — all or nothing.

Each part is written atomically on its own; if a later part fails, the earlier ones are put back as
they were, so a failure leaves the previous set-up (or none) intact, never a mix of old and new.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from calendar_app.exchange.connection_settings import AuthType, SignInMode
from calendar_app.logging_setup import register_secret
from calendar_app.security.certificate_details import sha256_fingerprint
from calendar_app.security.keystore import Keystore, KeystoreError, read_keystore
from calendar_app.security.secret_store import EXCHANGE_PASSWORD, KEYSTORE_PASSWORD, SecretStore, SecretStoreError
from calendar_app.security.security_profile import install_keystore, installed_keystore_path
from calendar_app.store.app_paths import AppPaths
from calendar_app.store.errors import StoreError
from calendar_app.store.settings_file import Settings, load_settings, save_settings

log = logging.getLogger(__name__)


class SetupError(Exception):
    """Saving failed; nothing was changed. `str()` says what happened and what to do."""


@dataclass(frozen=True)
class SetupPlan:
    ews_url: str
    mailbox: str
    username: str
    password: str = field(repr=False)
    keystore_data: bytes = field(repr=False)
    keystore_password: str = field(repr=False)
    sign_in_mode: SignInMode = SignInMode.IMPERSONATION
    auth_type: AuthType = AuthType.NTLM
    server_version: str = ""
    integration_enabled: bool = True

    def keystore(self) -> Keystore:
        return read_keystore(self.keystore_data, self.keystore_password)


@dataclass
class _Snapshot:
    """What was there before, to put back on failure."""

    secrets: dict[str, str | None]
    keystore_files: dict[Path, bytes]


def apply_setup(plan: SetupPlan, paths: AppPaths, secrets: SecretStore) -> Settings:
    """Write the keystore, both passwords and the settings. Returns the saved settings."""
    register_secret(plan.password)
    register_secret(plan.keystore_password)
    try:
        keystore = plan.keystore()
    except KeystoreError as error:
        raise SetupError(f"The keystore cannot be opened: {error}") from error
    previous = load_settings(paths.settings_file).settings
    snapshot = _take_snapshot(paths, secrets)
    try:
        installed = _install_keystore_bytes(plan, paths, secrets)
        secrets.set(EXCHANGE_PASSWORD, plan.password)
        settings = previous.with_changes(
            ews_url=plan.ews_url, mailbox=plan.mailbox, username=plan.username,
            sign_in_mode=plan.sign_in_mode.value, auth_type=plan.auth_type.value,
            keystore_file=str(installed),
            pinned_sha256=tuple(sha256_fingerprint(c) for c in keystore.trusted_certificates),
            server_version=plan.server_version, integration_enabled=plan.integration_enabled,
        )
        save_settings(paths.settings_file, settings)
    except (KeystoreError, SecretStoreError, StoreError, OSError) as error:
        _restore(snapshot, paths, secrets)
        raise SetupError(f"The set-up was not saved: {error} Nothing was changed; fix this and save "
                         "again.") from error
    log.info("set-up saved: %s for %s (%s, %s)", plan.ews_url, plan.mailbox, plan.sign_in_mode.value,
             plan.auth_type.value)
    return settings


def _install_keystore_bytes(plan: SetupPlan, paths: AppPaths, secrets: SecretStore) -> Path:
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".upload-", dir=paths.data_dir)
    source = Path(name)
    try:
        with os.fdopen(handle, "wb") as stream:
            os.fchmod(stream.fileno(), 0o600)
            stream.write(plan.keystore_data)
        return install_keystore(source, plan.keystore_password, paths.keystore_dir, secrets).path
    finally:
        source.unlink(missing_ok=True)


def _take_snapshot(paths: AppPaths, secrets: SecretStore) -> _Snapshot:
    try:
        values = {name: secrets.get(name) for name in (EXCHANGE_PASSWORD, KEYSTORE_PASSWORD)}
    except SecretStoreError as error:
        raise SetupError(f"{error}") from error
    files: dict[Path, bytes] = {}
    if paths.keystore_dir.is_dir():
        files = {path: path.read_bytes() for path in paths.keystore_dir.iterdir() if path.is_file()}
    return _Snapshot(values, files)


def _restore(snapshot: _Snapshot, paths: AppPaths, secrets: SecretStore) -> None:
    for name, value in snapshot.secrets.items():
        try:
            if value is None:
                secrets.delete(name)
            else:
                secrets.set(name, value)
        except SecretStoreError:
            log.warning("could not put back the keyring entry %s after a failed save", name)
    if paths.keystore_dir.is_dir():
        for path in paths.keystore_dir.iterdir():
            if path.is_file() and path not in snapshot.keystore_files:
                path.unlink(missing_ok=True)
    for path, data in snapshot.keystore_files.items():
        with contextlib.suppress(OSError):
            if not path.exists() or path.read_bytes() != data:
                path.write_bytes(data)
                path.chmod(0o600)


def current_keystore_path(paths: AppPaths) -> Path | None:
    return installed_keystore_path(paths.keystore_dir)


@dataclass(frozen=True)
class CurrentSetup:
    """The saved set-up, with its secrets, as the Settings dialog edits it."""

    settings: Settings
    keystore: Keystore
    keystore_data: bytes = field(repr=False)
    keystore_password: str = field(repr=False)
    password: str = field(repr=False)

    def plan(self) -> SetupPlan:
        return SetupPlan(
            ews_url=self.settings.ews_url, mailbox=self.settings.mailbox, username=self.settings.username,
            password=self.password, keystore_data=self.keystore_data, keystore_password=self.keystore_password,
            sign_in_mode=SignInMode(self.settings.sign_in_mode), auth_type=AuthType(self.settings.auth_type),
            server_version=self.settings.server_version, integration_enabled=self.settings.integration_enabled)


def load_current_setup(paths: AppPaths, secrets: SecretStore) -> CurrentSetup:
    try:
        settings = load_settings(paths.settings_file).settings
        keystore_path = installed_keystore_path(paths.keystore_dir)
        if not settings.ews_url or keystore_path is None:
            raise SetupError("No Exchange connection is set up yet: run the set-up wizard first.")
        keystore_password = secrets.get(KEYSTORE_PASSWORD) or ""
        password = secrets.get(EXCHANGE_PASSWORD) or ""
        data = keystore_path.read_bytes()
        keystore = read_keystore(data, keystore_password)
    except (StoreError, SecretStoreError, KeystoreError, OSError) as error:
        raise SetupError(f"The saved set-up cannot be read: {error} Run the set-up wizard again.") from error
    return CurrentSetup(settings, keystore, data, keystore_password, password)
