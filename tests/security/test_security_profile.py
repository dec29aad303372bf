"""Uploading a keystore into the security profile: validated, copied with mode 0600, password in
the real Secret Service (run under tests/run-with-keyring.sh)."""

from __future__ import annotations

import io
import os
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import keyring.backends.fail
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from calendar_app.cli import main
from calendar_app.security.keystore import KeystoreError, KeystoreType, TrustedCertificate, create_truststore
from calendar_app.security.secret_store import KEYSTORE_PASSWORD, SecretStore, SecretStoreUnavailableError
from calendar_app.security.security_profile import installed_keystore_path
from calendar_app.services.keystores import (
    install_new_truststore,
    plan_truststore_from_certificates,
    trusted_certificates_for_exchange,
    upload_keystore,
)
from calendar_app.store.app_paths import AppPaths
from tests.security.pki import Pki, issue
from tests.support.system import require

PASSWORD = "profile-pass-1"


def real_secret_store(service: str | None = None) -> SecretStore:
    require(os.environ.get("CALENDAR_APP_TEST_KEYRING") == "1", "Secret Service (gnome-keyring under dbus)",
            "run through tests/run-with-keyring.sh: apt-get install dbus gnome-keyring")
    store = SecretStore(service=service or f"calendar-app-test-{uuid.uuid4().hex[:8]}")
    assert "SecretService" in store.backend_name(), store.backend_name()
    return store


def truststore_file(folder: Path, name: str, *certificates: TrustedCertificate, store_type: str = "pkcs12") -> Path:
    path = folder / name
    path.write_bytes(create_truststore(list(certificates), PASSWORD, KeystoreType(store_type)))
    return path


def test_upload_copies_privately_and_keeps_the_password_in_the_keyring(
        app_paths: AppPaths, pki: Pki, tmp_path: Path) -> None:
    secrets = real_secret_store()
    soon = issue("renew-me", not_after=datetime.now(UTC) + timedelta(days=20))
    source = truststore_file(tmp_path, "exchange.p12", TrustedCertificate("exchange", pki.leaf.certificate),
                             TrustedCertificate("renew-me", soon.certificate))
    installed = upload_keystore(source, PASSWORD, paths=app_paths, secret_store=secrets)

    assert installed.path == app_paths.keystore_dir / "truststore.p12"
    assert installed.path.read_bytes() == source.read_bytes()
    assert installed.path.stat().st_mode & 0o777 == 0o600
    assert app_paths.keystore_dir.stat().st_mode & 0o777 == 0o700
    assert secrets.get(KEYSTORE_PASSWORD) == PASSWORD
    assert [w.split(" expires")[0] for w in installed.warnings] == ["'renew-me'"]
    assert set(trusted_certificates_for_exchange(paths=app_paths, secret_store=secrets)) == {
        pki.leaf.certificate, soon.certificate}
    assert PASSWORD.encode() not in b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())

    # A JKS uploaded later replaces it; only one profile keystore exists.
    jks_source = truststore_file(tmp_path, "new.jks", TrustedCertificate("root", pki.root.certificate),
                                 store_type="jks")
    upload_keystore(jks_source, PASSWORD, paths=app_paths, secret_store=secrets)
    assert installed_keystore_path(app_paths.keystore_dir) == app_paths.keystore_dir / "truststore.jks"
    assert sorted(p.name for p in app_paths.keystore_dir.iterdir()) == ["truststore.jks"]
    assert trusted_certificates_for_exchange(paths=app_paths, secret_store=secrets) == (pki.root.certificate,)
    secrets.delete(KEYSTORE_PASSWORD)


def test_refused_uploads_change_nothing(app_paths: AppPaths, pki: Pki, tmp_path: Path) -> None:
    secrets = real_secret_store()
    good = truststore_file(tmp_path, "good.p12", TrustedCertificate("exchange", pki.leaf.certificate))
    upload_keystore(good, PASSWORD, paths=app_paths, secret_store=secrets)
    before = sorted((p.name, p.read_bytes()) for p in app_paths.keystore_dir.iterdir())

    with pytest.raises(KeystoreError, match="Wrong keystore password"):
        upload_keystore(good, "not-the-password", paths=app_paths, secret_store=secrets)
    key_only = tmp_path / "key-only.p12"
    key_only.write_bytes(pkcs12.serialize_key_and_certificates(
        b"mykey", pki.leaf.key, pki.leaf.certificate, None,
        serialization.BestAvailableEncryption(PASSWORD.encode())))
    with pytest.raises(KeystoreError, match="holds no trusted certificate"):
        upload_keystore(key_only, PASSWORD, paths=app_paths, secret_store=secrets)
    other = truststore_file(tmp_path, "other.jks", TrustedCertificate("root", pki.root.certificate), store_type="jks")
    with pytest.raises(SecretStoreUnavailableError):
        upload_keystore(other, PASSWORD, paths=app_paths,
                        secret_store=SecretStore(backend=keyring.backends.fail.Keyring()))

    assert sorted((p.name, p.read_bytes()) for p in app_paths.keystore_dir.iterdir()) == before
    assert secrets.get(KEYSTORE_PASSWORD) == PASSWORD
    secrets.delete(KEYSTORE_PASSWORD)


def test_keystore_upload_command(app_paths: AppPaths, pki: Pki, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = real_secret_store(service="calendar-app")  # the app's own entry, in the throw-away test keyring
    source = truststore_file(tmp_path, "exchange.p12", TrustedCertificate("exchange", pki.leaf.certificate))
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{PASSWORD}\n"))
    assert main(["keystore", "upload", str(source), "--password-stdin"]) == 0
    out = capsys.readouterr().out
    assert f"as {app_paths.keystore_dir / 'truststore.p12'}" in out and "1 trusted certificate" in out
    assert secrets.get(KEYSTORE_PASSWORD) == PASSWORD
    secrets.delete(KEYSTORE_PASSWORD)


def test_the_wizard_path_builds_and_installs_from_a_captured_chain(app_paths: AppPaths, pki: Pki) -> None:
    secrets = real_secret_store()
    plan = plan_truststore_from_certificates([pki.leaf.certificate, pki.intermediate.certificate,
                                              pki.leaf.certificate], "Exchange")
    assert [e.alias for e in plan.entries] == ["exchange", "exchange-2"]
    assert any("skipped a certificate already added" in note for note in plan.notes)
    installed = install_new_truststore(plan, PASSWORD, KeystoreType.JKS, paths=app_paths, secret_store=secrets)
    assert installed.path == app_paths.keystore_dir / "truststore.jks"
    assert installed.path.stat().st_mode & 0o777 == 0o600
    assert trusted_certificates_for_exchange(paths=app_paths, secret_store=secrets) == (
        pki.leaf.certificate, pki.intermediate.certificate)
    secrets.delete(KEYSTORE_PASSWORD)
    with pytest.raises(KeystoreError, match="password is missing from the system keyring"):
        trusted_certificates_for_exchange(paths=app_paths, secret_store=secrets)
