"""Saving is all or nothing; `calendar-app test-connection` runs the same test as the wizard."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from calendar_app.cli import main
from calendar_app.sandbox import SandboxServer
from calendar_app.security.certificate_capture import capture_chain
from calendar_app.security.ews_url import parse_ews_url
from calendar_app.security.keystore import TrustedCertificate, create_truststore
from calendar_app.security.secret_store import SecretStore
from calendar_app.services.setup import SetupError, SetupPlan, apply_setup
from calendar_app.store.app_paths import AppPaths
from tests.wizard.conftest import KEYSTORE_PASSWORD_TEXT, REP_MAILBOX, SERVICE, saved_state


def plan_for(sandbox: SandboxServer, password: str = SERVICE.password) -> SetupPlan:
    leaf = capture_chain(parse_ews_url(sandbox.url)).leaf
    return SetupPlan(ews_url=sandbox.url, mailbox=REP_MAILBOX, username=SERVICE.account, password=password,
                     keystore_data=create_truststore([TrustedCertificate("exchange", leaf)], KEYSTORE_PASSWORD_TEXT),
                     keystore_password=KEYSTORE_PASSWORD_TEXT)


def test_a_failing_settings_write_puts_keystore_and_keyring_back(sandbox: SandboxServer, app_paths: AppPaths,
                                                                  secret_service: SecretStore) -> None:
    first = plan_for(sandbox)
    apply_setup(first, app_paths, secret_service)
    before = saved_state(app_paths, secret_service)
    # the settings folder becomes a file: the last write of the save fails
    settings_text = app_paths.settings_file.read_bytes()
    app_paths.settings_file.unlink()
    app_paths.config_dir.rmdir()
    app_paths.config_dir.write_bytes(b"not a folder")
    second = plan_for(sandbox, password="Another-Pass-2")
    with pytest.raises(SetupError, match="Nothing was changed"):
        apply_setup(second, app_paths, secret_service)
    app_paths.config_dir.unlink()
    app_paths.config_dir.mkdir()
    app_paths.settings_file.write_bytes(settings_text)
    assert saved_state(app_paths, secret_service) == before


def test_a_first_save_that_fails_leaves_nothing_behind(sandbox: SandboxServer, app_paths: AppPaths,
                                                       secret_service: SecretStore) -> None:
    app_paths.config_dir.parent.mkdir(parents=True)
    app_paths.config_dir.write_bytes(b"not a folder")
    with pytest.raises(SetupError):
        apply_setup(plan_for(sandbox), app_paths, secret_service)
    assert saved_state(app_paths, secret_service).keystore_files == ()
    assert saved_state(app_paths, secret_service).exchange_password is None
    assert saved_state(app_paths, secret_service).keystore_password is None


def test_test_connection_command_uses_the_saved_setup(sandbox: SandboxServer, app_paths: AppPaths,
                                                      secret_service: SecretStore,
                                                      capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["test-connection"]) == 2
    assert "No Exchange connection is set up" in capsys.readouterr().err
    apply_setup(plan_for(sandbox), app_paths, secret_service)
    assert main(["test-connection", "--skip-write-probe"]) == 0
    out = capsys.readouterr().out
    assert "Sign-in (NTLM)" in out and "Streaming subscription" in out and "All steps passed." in out
    assert "skipped" in out
    monkeypatch.setattr("sys.stdin", io.StringIO("Wrong-Pass-1\n"))
    assert main(["test-connection", "--password-stdin"]) == 1
    out = capsys.readouterr().out
    assert "401 — the password or user name is wrong" in out
    assert "Wrong-Pass-1" not in out


def test_test_connection_command_trusts_a_certificate_file_instead(sandbox: SandboxServer, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    certificate = tmp_path / "server.cer"
    certificate.write_bytes(sandbox.tls.leaf_pem)
    monkeypatch.setattr("sys.stdin", io.StringIO(SERVICE.password + "\n"))
    code = main(["test-connection", "--url", sandbox.url, "--mailbox", "nobody@contoso.com", "--user",
                 SERVICE.account, "--password-stdin", "--certificate", str(certificate)])
    out = capsys.readouterr().out
    assert code == 1
    assert "There is no mailbox nobody@contoso.com" in out
