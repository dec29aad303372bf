"""Passwords in the OS keyring (Secret Service, Windows Credential Locker, macOS Keychain).

There is deliberately no fallback: with no usable keyring we say what to install or unlock and
store nothing, rather than writing a password to a file.
"""

from __future__ import annotations

import logging

import keyring
import keyring.backend
import keyring.errors

from calendar_app.logging_setup import register_secret

log = logging.getLogger(__name__)

SERVICE_NAME = "calendar-app"

# Names under which the app keeps its secrets.
EXCHANGE_PASSWORD = "exchange-password"  # noqa: S105 - a key name, not a password
KEYSTORE_PASSWORD = "keystore-password"  # noqa: S105 - a key name, not a password

_INSTALL_HINT = (
    "No usable system keyring was found, so no password can be stored. On Linux install and unlock a "
    "Secret Service provider (GNOME Keyring: 'apt install gnome-keyring', or KeePassXC with Secret "
    "Service enabled) and sign in to a desktop session; on Windows and macOS the system keyring is "
    "built in. Nothing was saved."
)


class SecretStoreError(Exception):
    """The keyring could not be used. `str()` says what to do."""


class SecretStoreUnavailableError(SecretStoreError):
    pass


class SecretStoreLockedError(SecretStoreError):
    pass


def _is_insecure(backend: keyring.backend.KeyringBackend) -> bool:
    module = type(backend).__module__
    name = type(backend).__name__
    if module.startswith("keyring.backends.fail") or module.startswith("keyring.backends.null"):
        return True
    # keyrings.alt's file backends keep passwords in a file (plaintext or with a guessable key).
    if module.startswith("keyrings.alt"):
        return True
    if module.startswith("keyring.backends.chainer"):
        return not any(not _is_insecure(b) for b in getattr(backend, "backends", []))
    return name in {"PlaintextKeyring", "EncryptedKeyring"}


class SecretStore:
    """Get and set the app's secrets under the service name `calendar-app`."""

    def __init__(self, service: str = SERVICE_NAME, backend: keyring.backend.KeyringBackend | None = None):
        self._service = service
        self._backend = backend

    @property
    def service(self) -> str:
        """The keyring service name the secrets are filed under."""
        return self._service

    def backend(self) -> keyring.backend.KeyringBackend:
        backend = self._backend or keyring.get_keyring()
        if _is_insecure(backend):
            raise SecretStoreUnavailableError(_INSTALL_HINT)
        return backend

    def backend_name(self) -> str:
        backend = self.backend()
        return f"{type(backend).__module__}.{type(backend).__name__}"

    def set(self, name: str, secret: str) -> None:
        if not secret:
            raise ValueError("an empty secret is not stored")
        register_secret(secret)
        try:
            self.backend().set_password(self._service, name, secret)
        except keyring.errors.KeyringLocked as error:
            raise SecretStoreLockedError(_locked_message()) from error
        except (keyring.errors.KeyringError, RuntimeError) as error:
            raise _unavailable(error) from error
        log.info("stored secret '%s' in the system keyring", name)

    def get(self, name: str) -> str | None:
        try:
            secret = self.backend().get_password(self._service, name)
        except keyring.errors.KeyringLocked as error:
            raise SecretStoreLockedError(_locked_message()) from error
        except (keyring.errors.KeyringError, RuntimeError) as error:
            raise _unavailable(error) from error
        if secret:
            register_secret(secret)
        return secret

    def delete(self, name: str) -> None:
        try:
            self.backend().delete_password(self._service, name)
        except keyring.errors.PasswordDeleteError:
            return  # nothing stored: deleting is already done
        except keyring.errors.KeyringLocked as error:
            raise SecretStoreLockedError(_locked_message()) from error
        except (keyring.errors.KeyringError, RuntimeError) as error:
            raise _unavailable(error) from error


def _locked_message() -> str:
    return ("The system keyring is locked. Unlock it (on Linux: sign in to your desktop session or open "
            "'Passwords and Keys' and unlock the login keyring), then try again. Nothing was saved.")


def _unavailable(error: Exception) -> SecretStoreUnavailableError:
    return SecretStoreUnavailableError(f"{_INSTALL_HINT} (Keyring said: {error})")
