"""The main window warns 30 days before the pinned certificate expires and when the server starts presenting
another certificate; "Trust the new certificate…" leads back to the certificate step."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pytestqt.qtbot import QtBot

from calendar_app.app import AppShell
from calendar_app.gui.setup_wizard import PageId
from calendar_app.sandbox import SandboxServer
from calendar_app.security.keystore import TrustedCertificate, create_truststore, read_keystore
from calendar_app.security.secret_store import SecretStore
from calendar_app.services.certificate_watch import NoticeKind, expiry_notices, presented_certificate_notice
from calendar_app.services.setup import apply_setup
from calendar_app.store.app_paths import AppPaths
from tests.wizard.test_setup_and_cli import plan_for

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def certificate_valid_until(not_after: dt.datetime) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mail.contoso.test")])
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(not_after - dt.timedelta(days=365))
            .not_valid_after(not_after).sign(key, hashes.SHA256()))


@pytest.mark.parametrize(("days_left", "kind"), [(100, None), (29, NoticeKind.EXPIRING), (-1, NoticeKind.EXPIRED)])
def test_expiry_notice_starts_30_days_before(days_left: int, kind: NoticeKind | None) -> None:
    certificate = certificate_valid_until(NOW + dt.timedelta(days=days_left, hours=1))
    keystore = read_keystore(create_truststore([TrustedCertificate("exchange", certificate)], "Pass-word-1"),
                             "Pass-word-1")
    notices = expiry_notices(keystore, NOW)
    assert [n.kind for n in notices] == ([kind] if kind else [])
    if kind is NoticeKind.EXPIRING:
        assert "expires in 29 days" in notices[0].message


def test_a_changed_server_certificate_is_reported_with_both_fingerprints(sandbox: SandboxServer) -> None:
    pinned = (sandbox.certificate_sha256,)
    assert presented_certificate_notice(sandbox.url, pinned) is None
    sandbox.faults.add("changed-certificate")
    notice = presented_certificate_notice(sandbox.url, pinned)
    assert notice is not None and notice.kind is NoticeKind.CHANGED
    assert notice.old_fingerprints == pinned
    assert notice.new_fingerprint == sandbox.certificate_sha256 != pinned[0]


@pytest.fixture
def shell(app_paths: AppPaths) -> Iterator[AppShell]:
    running = AppShell(app_paths, demo=False)
    try:
        yield running
    finally:
        running.shut_down()
        if running.window is not None:
            running.window.close()


def test_window_warns_and_trust_leads_to_the_certificate_step(qtbot: QtBot, sandbox: SandboxServer,
                                                              app_paths: AppPaths, secret_service: SecretStore,
                                                              shell: AppShell) -> None:
    settings = apply_setup(plan_for(sandbox), app_paths, secret_service)
    old = sandbox.certificate_sha256
    sandbox.faults.add("changed-certificate")
    shell.open_calendar(settings, [])
    qtbot.addWidget(shell.window)
    qtbot.waitUntil(lambda: shell.warning_bar is not None, timeout=30000)
    text = shell.warning_bar.label.text()
    assert old in text and sandbox.certificate_sha256 in text
    # Qt shows widgets added to a visible window on its next turn of the event loop
    qtbot.waitUntil(lambda: shell.warning_bar.trust_button.isVisibleTo(shell.window), timeout=5000)
    shell.warning_bar.trust_button.click()
    wizard = shell.wizard
    assert wizard.current_page_id() is PageId.CERTIFICATE
    qtbot.waitUntil(lambda: not wizard.certificate_page.capturing, timeout=30000)
    assert wizard.state.certificates
    assert wizard.certificate_page.tree.topLevelItemCount() >= 2
    new_leaf = wizard.state.certificates[0].fingerprint(hashes.SHA256())
    assert ":".join(f"{b:02X}" for b in new_leaf) == sandbox.certificate_sha256
    wizard.reject()
