"""The settings file: versioned JSON, written atomically, 0600, never holding a secret.

A file we cannot read (damaged, or from a newer version) is renamed aside and reported, never
silently overwritten: it may be the only copy of an admin's configuration.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from calendar_app.store.errors import StoreError

log = logging.getLogger(__name__)

SETTINGS_VERSION = 1
SIGN_IN_MODES = ("impersonation", "own-account")
AUTH_TYPES = ("NTLM", "Basic")
CONFLICT_POLICIES = ("ask", "keep-mine", "take-exchange")
# Key fragments that must never appear in the file: secrets belong in the keyring.
_SECRET_WORDS = ("password", "secret", "token", "passphrase")


@dataclass(frozen=True)
class Settings:
    ews_url: str = ""
    mailbox: str = ""
    sign_in_mode: str = "impersonation"
    auth_type: str = "NTLM"
    username: str = ""
    keystore_file: str = ""  # the copy in the app data folder; its password is in the keyring
    pinned_sha256: tuple[str, ...] = ()
    integration_enabled: bool = False
    conflict_policy: str = "ask"
    server_version: str = ""  # pinned after the first contact, so no probing round trips
    extra: dict[str, Any] = field(default_factory=dict)

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes)


class SettingsError(StoreError):
    pass


@dataclass(frozen=True)
class LoadedSettings:
    settings: Settings
    # Set when the file on disk could not be used; says what happened and where the old file went.
    problem: str | None = None


def load_settings(path: Path) -> LoadedSettings:
    if not path.exists():
        return LoadedSettings(Settings())
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise SettingsError(f"The settings file {path} cannot be read ({error.strerror}). "
                            "Check its permissions.") from error
    try:
        document = json.loads(raw.decode("utf-8"))
        if not isinstance(document, dict):
            raise ValueError("not a JSON object")
        version = document.get("version")
        if version != SETTINGS_VERSION:
            kept = _move_aside(path, "unknown-version")
            return LoadedSettings(Settings(), (
                f"The settings file was written by another version of calendar-app (version {version!r}); "
                f"it was kept as {kept.name} and default settings are used. Run the setup wizard again "
                "or install the matching version."
            ))
        return LoadedSettings(_from_document(document))
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        kept = _move_aside(path, "damaged")
        log.warning("settings file %s unreadable (%s); kept as %s", path, error, kept)
        return LoadedSettings(Settings(), (
            f"The settings file could not be read ({error}); it was kept as {kept.name} and default "
            "settings are used. Run the setup wizard again to reconnect to Exchange."
        ))


def save_settings(path: Path, settings: Settings) -> None:
    """Atomic: write a temp file in the same folder, fsync, rename over the old one, fsync the
    folder. A crash at any point leaves either the old file or the new one, never a mix."""
    import tempfile  # here, not at the top: it loads shutil and random, ~3 ms of every start that only reads

    document = {"version": SETTINGS_VERSION, **_to_document(settings)}
    _refuse_secrets(document)
    data = json.dumps(document, indent=2, sort_keys=True).encode("utf-8") + b"\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=".settings-", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise SettingsError(f"The settings folder {path.parent} is not writable ({error.strerror}).") from error
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        _replace(temp, path)
        _fsync_directory(path.parent)
    except OSError as error:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise SettingsError(
            f"The settings could not be saved to {path} ({error.strerror}); the previous settings are "
            "unchanged. Free some disk space or fix the folder's permissions."
        ) from error


def _replace(source: Path, target: Path) -> None:
    # A separate function so a test can simulate a crash between write and rename.
    source.replace(target)


def _fsync_directory(directory: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _move_aside(path: Path, why: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.{why}-{stamp}")
    counter = 1
    while target.exists():
        target = path.with_name(f"{path.name}.{why}-{stamp}-{counter}")
        counter += 1
    path.rename(target)
    return target


def _to_document(settings: Settings) -> dict[str, Any]:
    document = asdict(settings)
    document["pinned_sha256"] = list(settings.pinned_sha256)
    return document


def _from_document(document: dict[str, Any]) -> Settings:
    known = {f.name for f in fields(Settings)}
    values: dict[str, Any] = {k: v for k, v in document.items() if k in known}
    defaults = Settings()
    for name in known - {"extra"}:
        if name in values and type(values[name]) is not type(getattr(defaults, name)):
            if name == "pinned_sha256" and isinstance(values[name], list):
                values[name] = tuple(str(x) for x in values[name])
                continue
            raise TypeError(f"'{name}' has the wrong type")
    if values.get("sign_in_mode", "impersonation") not in SIGN_IN_MODES:
        raise ValueError(f"unknown sign_in_mode {values['sign_in_mode']!r}")
    if values.get("auth_type", "NTLM") not in AUTH_TYPES:
        raise ValueError(f"unknown auth_type {values['auth_type']!r}")
    if values.get("conflict_policy", "ask") not in CONFLICT_POLICIES:
        raise ValueError(f"unknown conflict_policy {values['conflict_policy']!r}")
    return Settings(**values)


def _refuse_secrets(document: dict[str, Any], prefix: str = "") -> None:
    for key, value in document.items():
        if any(word in key.lower() for word in _SECRET_WORDS):
            raise SettingsError(f"Refusing to write '{prefix}{key}' to the settings file: secrets "
                                "belong in the system keyring.")
        if isinstance(value, dict):
            _refuse_secrets(value, f"{prefix}{key}.")
