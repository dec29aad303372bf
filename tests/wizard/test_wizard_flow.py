"""The whole wizard against the sandbox: the happy path, and each failure an admin meets, ending on the
right page with the right message and nothing half-saved."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import socket
import sqlite3
import subprocess
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from PySide6.QtWidgets import QWizard
from pytestqt.qtbot import QtBot

from calendar_app.gui.setup_wizard import PageId
from calendar_app.sandbox import SandboxServer
from calendar_app.security.certificate_files import ExportFormat, read_certificate_file
from calendar_app.security.secret_store import EXCHANGE_PASSWORD, KEYSTORE_PASSWORD, SecretStore
from calendar_app.security.security_profile import load_installed_keystore
from calendar_app.services.connection_test import Outcome, StepId
from calendar_app.services.sync_session import SyncSession
from calendar_app.store.app_paths import AppPaths
from tests.support.system import require_program
from tests.wizard.conftest import (
    DENIED_MAILBOX,
    KEYSTORE_PASSWORD_TEXT,
    REP_MAILBOX,
    SERVICE,
    WizardDriver,
    saved_state,
)


def results_by_step(driver: WizardDriver) -> dict[StepId, Outcome]:
    return {r.step: r.outcome for r in driver.wizard.state.test_results}


def test_happy_path_saves_a_working_configuration(qtbot: QtBot, make_wizard, sandbox: SandboxServer,
                                                  app_paths: AppPaths, secret_service: SecretStore,
                                                  app_log: Path, tmp_path: Path) -> None:
    wizard = make_wizard()
    driver = WizardDriver(qtbot, wizard)
    # the integration guide's typo is corrected on the way
    driver.to_server(sandbox.url.replace("https://", "https//"), REP_MAILBOX.upper())
    assert wizard.server_page.url_edit.text() == sandbox.url
    assert "colon is missing" in wizard.server_page.message.text()
    driver.wait_capture()
    assert wizard.state.certificates, wizard.certificate_page.message.text()
    assert wizard.certificate_page.tree.topLevelItemCount() == 3  # checks, server certificate, root
    # "Save as…" writes what the browser's "Copy to File" would: Base-64 or DER, read back by openssl's rules
    for fmt, name in ((ExportFormat.PEM, "server.cer"), (ExportFormat.DER, "server.der")):
        assert wizard.certificate_page.save_certificate(tmp_path / name, fmt)
        assert read_certificate_file(tmp_path / name) == [wizard.state.certificates[0]]
    assert (tmp_path / "server.cer").read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert driver.can_go_next()
    driver.next()
    question = driver.create_keystore()
    assert question and sandbox.certificate_sha256 in question[0]
    assert driver.page is PageId.AUTHENTICATION

    # Back keeps every answer, and the certificate is not captured again
    wizard.authentication_page.user_edit.setText(SERVICE.account)
    wizard.back()
    wizard.back()
    wizard.back()
    assert driver.page is PageId.SERVER
    assert wizard.server_page.url_edit.text() == sandbox.url
    assert wizard.server_page.mailbox_edit.text() == REP_MAILBOX
    driver.next()
    assert not wizard.certificate_page.capturing and wizard.state.certificates
    driver.next()
    assert wizard.keystore_page.password_edit.text() == KEYSTORE_PASSWORD_TEXT
    driver.create_keystore()
    assert wizard.authentication_page.user_edit.text() == SERVICE.account

    driver.sign_in()
    driver.wait_test()
    outcomes = results_by_step(driver)
    assert outcomes == dict.fromkeys(StepId, Outcome.PASSED), wizard.test_page.message.text()
    assert not sandbox.calendar_items(REP_MAILBOX), "the write probe left its test item behind"
    assert driver.can_go_next()
    driver.next()
    assert driver.page is PageId.ENABLE
    assert sandbox.url in wizard.enable_page.url_label.text()
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert wizard.result() == QWizard.DialogCode.Accepted, wizard.enable_page.message.text()

    document = json.loads(app_paths.settings_file.read_text())
    assert document["ews_url"] == sandbox.url
    assert document["mailbox"] == REP_MAILBOX
    assert document["username"] == SERVICE.account
    assert document["integration_enabled"] is True
    assert document["server_version"].startswith("15.")
    assert document["pinned_sha256"] == [sandbox.certificate_sha256]
    assert secret_service.get(EXCHANGE_PASSWORD) == SERVICE.password
    assert secret_service.get(KEYSTORE_PASSWORD) == KEYSTORE_PASSWORD_TEXT
    keystore = load_installed_keystore(app_paths.keystore_dir, secret_service)
    assert [e.alias for e in keystore.entries] == ["exchange-server"]
    assert (Path(document["keystore_file"]).stat().st_mode & 0o777) == 0o600

    # the saved set-up syncs: an appointment booked on the server arrives in the local database
    sandbox.add_calendar_item(REP_MAILBOX, (
        '<t:CalendarItem xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">'
        "<t:Subject>Booked in Outlook</t:Subject><t:Start>2027-03-20T09:00:00Z</t:Start>"
        "<t:End>2027-03-20T10:00:00Z</t:End></t:CalendarItem>"))
    session = SyncSession.open(app_paths, secrets=secret_service)
    try:
        report = session.run_once()
    finally:
        session.close()
    assert report.fatal_error is None and report.created_locally == 1, report
    with contextlib.closing(sqlite3.connect(app_paths.database_file)) as database:
        subjects = [row[0] for row in database.execute("SELECT subject FROM appointments")]
    assert subjects == ["Booked in Outlook"]

    # nothing secret in the settings file, the database or the log
    assert app_log.exists()
    written = [p for p in (app_paths.config_dir, app_paths.data_dir, app_paths.log_dir) for p in p.rglob("*")
               if p.is_file() and p.suffix not in (".p12", ".jks")]
    assert app_paths.settings_file in written and app_log in written
    for path in written:
        content = path.read_bytes()
        for secret in (SERVICE.password, KEYSTORE_PASSWORD_TEXT):
            assert secret.encode() not in content, f"{secret!r} found in {path}"


def test_wrong_password_stops_on_the_test_page_with_401_advice(qtbot: QtBot, make_wizard, sandbox: SandboxServer,
                                                               app_paths: AppPaths,
                                                               secret_service: SecretStore) -> None:
    before = saved_state(app_paths, secret_service)
    driver = WizardDriver(qtbot, make_wizard())
    driver.to_server(sandbox.url)
    driver.wait_capture()
    driver.next()
    driver.create_keystore()
    driver.sign_in(password="Not-The-Password-1")
    driver.wait_test()
    assert driver.page is PageId.TEST
    assert results_by_step(driver)[StepId.LOGIN] is Outcome.FAILED
    message = driver.wizard.test_page.message.text()
    assert "401 — the password or user name is wrong, or NTLM is disabled on this virtual directory" in message
    assert not driver.can_go_next()
    assert saved_state(app_paths, secret_service) == before


def test_impersonation_denied_names_the_missing_role(qtbot: QtBot, make_wizard, sandbox: SandboxServer,
                                                     app_paths: AppPaths, secret_service: SecretStore) -> None:
    before = saved_state(app_paths, secret_service)
    driver = WizardDriver(qtbot, make_wizard())
    driver.to_server(sandbox.url, DENIED_MAILBOX)
    driver.wait_capture()
    driver.next()
    driver.create_keystore()
    driver.sign_in()
    driver.wait_test()
    assert driver.page is PageId.TEST
    outcomes = results_by_step(driver)
    assert outcomes[StepId.LOGIN] is Outcome.PASSED
    assert outcomes[StepId.MAILBOX] is Outcome.FAILED
    message = driver.wizard.test_page.message.text()
    assert "does not hold the ApplicationImpersonation role" in message and DENIED_MAILBOX in message
    assert not driver.can_go_next()
    assert saved_state(app_paths, secret_service) == before


def _certificate_for_another_host(path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mail.other-company.test")])
    now = dt.datetime.now(dt.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
                   .not_valid_after(now + dt.timedelta(days=365))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName("mail.other-company.test")]),
                                  critical=False)
                   .sign(key, hashes.SHA256()))
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def test_wrong_host_certificate_is_flagged_and_fails_the_keystore_match(qtbot: QtBot, make_wizard,
                                                                         sandbox: SandboxServer, tmp_path: Path,
                                                                         app_paths: AppPaths,
                                                                         secret_service: SecretStore) -> None:
    """The admin exported the certificate of another server and uses that file."""
    before = saved_state(app_paths, secret_service)
    wrong = tmp_path / "other-server.cer"
    _certificate_for_another_host(wrong)
    driver = WizardDriver(qtbot, make_wizard())
    driver.to_server(sandbox.url)
    driver.wait_capture()
    assert driver.wizard.certificate_page.use_certificate_file(wrong)
    assert "does not match the host name" in driver.wizard.certificate_page.message.text()
    driver.next()
    driver.create_keystore()
    driver.sign_in()
    driver.wait_test()
    assert driver.page is PageId.TEST
    outcomes = results_by_step(driver)
    assert outcomes[StepId.TLS] is Outcome.PASSED
    assert outcomes[StepId.CERTIFICATE] is Outcome.FAILED
    assert StepId.LOGIN not in outcomes, "no password may be sent to a server that is not trusted"
    message = driver.wizard.test_page.message.text()
    assert "is not the one in the keystore" in message and sandbox.certificate_sha256 in message
    assert not driver.can_go_next()
    assert saved_state(app_paths, secret_service) == before


def test_keystore_with_the_wrong_password_stays_on_the_keystore_page(qtbot: QtBot, make_wizard,
                                                                      sandbox: SandboxServer, tmp_path: Path,
                                                                      app_paths: AppPaths,
                                                                      secret_service: SecretStore) -> None:
    keytool = require_program("keytool", "default-jre-headless")
    certificate = tmp_path / "exchange.cer"
    certificate.write_bytes(sandbox.tls.leaf_pem)
    keystore = tmp_path / "exchange.jks"
    subprocess.run([keytool, "-importcert", "-noprompt", "-file", str(certificate), "-keystore", str(keystore),
                    "-storetype", "JKS", "-storepass", "Right-Pass-1", "-alias", "exchange"],
                   check=True, capture_output=True, timeout=60)
    before = saved_state(app_paths, secret_service)
    driver = WizardDriver(qtbot, make_wizard())
    driver.to_server(sandbox.url)
    driver.wait_capture()
    driver.next()
    driver.upload_keystore(keystore, "Wrong-Pass-1")
    assert driver.page is PageId.KEYSTORE
    message = driver.wizard.keystore_page.message.text()
    assert "password" in message.lower() and str(keystore) in message
    assert saved_state(app_paths, secret_service) == before
    # the right password gets through, and the uploaded keystore trusts the server
    driver.upload_keystore(keystore, "Right-Pass-1")
    assert driver.page is PageId.AUTHENTICATION
    assert [c.fingerprint(hashes.SHA256()) for c in driver.wizard.state.trusted] == \
        [sandbox.tls.leaf.fingerprint(hashes.SHA256())]


def test_unreachable_server_stops_on_the_certificate_page(qtbot: QtBot, make_wizard, app_paths: AppPaths,
                                                          secret_service: SecretStore) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    before = saved_state(app_paths, secret_service)
    driver = WizardDriver(qtbot, make_wizard())
    driver.to_server(f"https://127.0.0.1:{free_port}/EWS/Exchange.asmx")
    driver.wait_capture()
    assert driver.page is PageId.CERTIFICATE
    message = driver.wizard.certificate_page.message.text()
    assert "refused the connection" in message and str(free_port) in message
    assert not driver.can_go_next()
    assert saved_state(app_paths, secret_service) == before


def test_invalid_url_and_address_are_explained_on_the_server_page(qtbot: QtBot, make_wizard) -> None:
    driver = WizardDriver(qtbot, make_wizard())
    driver.to_server("http://mail.contoso.com/EWS/Exchange.asmx")
    assert driver.page is PageId.SERVER
    assert "unencrypted" in driver.wizard.server_page.message.text()
    driver.wizard.server_page.url_edit.setText("https://mail.contoso.com/EWS/Exchange.asmx")
    driver.wizard.server_page.mailbox_edit.setText("not-an-address")
    driver.next()
    assert driver.page is PageId.SERVER
    assert "is not an e-mail address" in driver.wizard.server_page.message.text()
