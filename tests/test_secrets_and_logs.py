"""Secrets go to the real Secret Service and never reach the settings file or the log."""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

import keyring.backends.fail
import pytest

from calendar_app.logging_setup import configure_logging
from calendar_app.security.secret_store import (
    EXCHANGE_PASSWORD,
    SecretStore,
    SecretStoreUnavailableError,
)
from calendar_app.store.app_paths import AppPaths
from calendar_app.store.settings_file import Settings, save_settings
from tests.support.system import require


def real_secret_store() -> SecretStore:
    require(os.environ.get("CALENDAR_APP_TEST_KEYRING") == "1", "Secret Service (gnome-keyring under dbus)",
            "run through tests/run-with-keyring.sh: apt-get install dbus gnome-keyring")
    store = SecretStore(service=f"calendar-app-test-{uuid.uuid4().hex[:8]}")
    assert "SecretService" in store.backend_name(), store.backend_name()
    return store


def test_secret_round_trip_through_the_real_secret_service() -> None:
    store = real_secret_store()
    store.set(EXCHANGE_PASSWORD, "Pässw0rd! with spaces")
    assert store.get(EXCHANGE_PASSWORD) == "Pässw0rd! with spaces"
    store.set(EXCHANGE_PASSWORD, "second")
    assert store.get(EXCHANGE_PASSWORD) == "second"
    store.delete(EXCHANGE_PASSWORD)
    assert store.get(EXCHANGE_PASSWORD) is None
    store.delete(EXCHANGE_PASSWORD)  # deleting twice is fine


def test_no_keyring_backend_gives_a_clear_message_and_stores_nothing() -> None:
    store = SecretStore(backend=keyring.backends.fail.Keyring())
    with pytest.raises(SecretStoreUnavailableError, match="gnome-keyring"):
        store.set(EXCHANGE_PASSWORD, "hunter2")


def test_plaintext_backends_are_refused() -> None:
    class PlaintextKeyring(keyring.backends.fail.Keyring):
        priority = 1  # type: ignore[assignment]

    with pytest.raises(SecretStoreUnavailableError, match="No usable system keyring"):
        SecretStore(backend=PlaintextKeyring()).get("x")


def test_a_session_with_a_password_leaves_it_in_no_file(app_paths: AppPaths) -> None:
    password = f"S3cret-{uuid.uuid4().hex}"
    store = real_secret_store()
    log_file = configure_logging(app_paths.log_file, level=logging.DEBUG)
    log = logging.getLogger("calendar_app.test_session")
    try:
        store.set(EXCHANGE_PASSWORD, password)
        assert store.get(EXCHANGE_PASSWORD) == password
        save_settings(app_paths.settings_file, Settings(username="CONTOSO\\svc", ews_url="https://x/EWS/Exchange.asmx"))
        # the ways a password usually leaks into logs
        log.info("connecting with password=%s", password)
        log.debug("headers: {'Authorization': 'NTLM TlRMTVNTUAADAAAAGAAYAHgAAAAYABgAkAAAAAAAAABYAAAA'}")
        log.warning("login failed for %s", {"user": "svc", "passwd": password})
        try:
            raise RuntimeError(f"server rejected {password}")
        except RuntimeError:
            log.exception("unexpected")
        logging.getLogger("urllib3").debug("Authorization: Basic %s", "c3ZjOmh1bnRlcjI=")
    finally:
        store.delete(EXCHANGE_PASSWORD)
        for handler in logging.getLogger().handlers:
            handler.flush()
    contents = {p: p.read_text(encoding="utf-8") for p in (log_file, app_paths.settings_file)}
    assert "connecting with password=" in contents[log_file]  # the log did get written
    for path, text in contents.items():
        assert password not in text, path
        assert "TlRMTVNTUAAD" not in text, path
        assert "c3ZjOmh1bnRlcjI=" not in text, path
    assert Path(log_file).stat().st_mode & 0o077 == 0
