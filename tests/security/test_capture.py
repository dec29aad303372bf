"""Capturing the chain a real TLS server presents, and every way that can go wrong."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from calendar_app.security.certificate_capture import (
    CaptureTimeoutError,
    ConnectionRefusedCaptureError,
    NotTlsError,
    OutdatedTlsError,
    UnknownHostError,
    capture_chain,
)
from calendar_app.security.chain_assessment import assess_chain
from calendar_app.security.ews_url import parse_ews_url
from tests.security.pki import (
    Pki,
    RunningServer,
    closed_port,
    issue,
    openssl_server,
    plain_http_server,
    silent_server,
)


def der(certificates: list) -> list[bytes]:  # type: ignore[type-arg]
    return [c.public_bytes(serialization.Encoding.DER) for c in certificates]


def test_captured_chain_equals_what_openssl_s_server_presents_byte_for_byte(
        chain_server: RunningServer, pki: Pki) -> None:
    captured = capture_chain(parse_ews_url(chain_server.url))
    assert der(list(captured.certificates)) == der(pki.presented_chain)
    assert captured.tls_version in {"TLSv1.2", "TLSv1.3"}


def test_assessment_of_a_chain_from_a_private_ca(chain_server: RunningServer, pki: Pki,
                                                 monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    captured = capture_chain(parse_ews_url(chain_server.url))
    verdict = assess_chain(list(captured.certificates), "127.0.0.1")
    assert verdict.matches_host and not verdict.trusted_by_system
    assert "unable to get" in verdict.trust_detail  # the root is not in the system store
    assert [c.sha256 for c in verdict.certificates] == [
        ":".join(f"{b:02X}" for b in c.fingerprint(__import__("cryptography.hazmat.primitives.hashes",
                                                              fromlist=["SHA256"]).SHA256()))
        for c in pki.presented_chain]
    leaf_rows = dict(verdict.certificates[0].rows())
    assert leaf_rows["Public key"] == "RSA 2048 bits"
    assert leaf_rows["Subject alternative names"] == "DNS:localhost, IP:127.0.0.1"
    assert leaf_rows["Certificate authority"] == "no" and leaf_rows["Self-signed"] == "no"
    assert dict(verdict.certificates[1].rows())["Certificate authority"] == "yes"
    assert not verdict.expired and not verdict.expiring_soon

    # The same chain is trusted once the root is in the store OpenSSL uses by default.
    (tmp_path / "roots.pem").write_bytes(pki.root.pem)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "roots.pem"))
    assert assess_chain(list(captured.certificates), "localhost").trusted_by_system


def test_wrong_host_is_captured_and_reported(chain_server: RunningServer) -> None:
    captured = capture_chain(parse_ews_url(chain_server.url))
    verdict = assess_chain(list(captured.certificates), "mail.contoso.com")
    assert not verdict.matches_host
    assert "mail.contoso.com is not among DNS:localhost, IP:127.0.0.1" in verdict.host_detail
    assert any("does not match the host name" in w for w in verdict.warnings())


@pytest.mark.parametrize("case", ["expired", "not-yet-valid", "self-signed", "expiring"])
def test_bad_certificates_are_still_captured_and_flagged(case: str, openssl: str, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    validity = {
        "expired": {"not_before": now - timedelta(days=400), "not_after": now - timedelta(days=3)},
        "not-yet-valid": {"not_before": now + timedelta(days=2), "not_after": now + timedelta(days=400)},
        "expiring": {"not_before": now - timedelta(days=300), "not_after": now + timedelta(days=10)},
        "self-signed": {},
    }[case]
    leaf = issue("exchange.contoso.test", dns_names=("exchange.contoso.test",), ip_addresses=(), **validity)
    with openssl_server(openssl, tmp_path, leaf, []) as server:
        captured = capture_chain(parse_ews_url(server.url))
    assert der(list(captured.certificates)) == der([leaf.certificate])
    verdict = assess_chain(list(captured.certificates), "exchange.contoso.test")
    details = verdict.certificates[0]
    warnings = " ".join(verdict.warnings())
    assert not verdict.trusted_by_system
    if case == "expired":
        assert verdict.expired and details.days_left < 0 and "Expired" in warnings
        assert "EXPIRED 3 days ago" in details.validity_text() or "EXPIRED 4 days ago" in details.validity_text()
    elif case == "not-yet-valid":
        assert verdict.not_yet_valid and "Not valid yet" in warnings
    elif case == "expiring":
        assert verdict.expiring_soon and "Expires soon" in warnings and not verdict.expired
    else:
        assert details.is_self_signed and "Self-signed" in warnings and not verdict.expired


def test_documented_typo_is_fixed_and_explained(chain_server: RunningServer, pki: Pki) -> None:
    endpoint = parse_ews_url(f"https//127.0.0.1:{chain_server.port}/ews/Exchange.asmx")
    assert endpoint.url == f"https://127.0.0.1:{chain_server.port}/ews/Exchange.asmx"
    assert "colon is missing" in endpoint.notes[0]
    assert der(list(capture_chain(endpoint).certificates)) == der(pki.presented_chain)


def test_connection_refused() -> None:
    port = closed_port()
    with pytest.raises(ConnectionRefusedCaptureError, match=f"127.0.0.1:{port} refused the connection"):
        capture_chain(parse_ews_url(f"https://127.0.0.1:{port}/EWS/Exchange.asmx"))


def test_a_port_that_does_not_speak_tls() -> None:
    with plain_http_server() as server, pytest.raises(NotTlsError, match="TLS"):
        capture_chain(parse_ews_url(server.url))


def test_a_server_with_only_tls_1_1_is_refused(openssl: str, pki: Pki, tmp_path: Path) -> None:
    with (openssl_server(openssl, tmp_path, pki.leaf, [], ("-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")) as server,
          pytest.raises(OutdatedTlsError, match=r"requires TLS 1\.2 or newer")):
        capture_chain(parse_ews_url(server.url))


def test_a_tls_server_that_hangs_times_out() -> None:
    with silent_server() as server, pytest.raises(CaptureTimeoutError, match="within 1 s"):
        capture_chain(parse_ews_url(server.url), timeout=1)


def test_unknown_host() -> None:
    # .invalid is reserved (RFC 6761): it never resolves, with or without a network.
    with pytest.raises(UnknownHostError, match=r"Unknown host 'no-such-server\.invalid'"):
        capture_chain(parse_ews_url("https://no-such-server.invalid/EWS/Exchange.asmx"), timeout=5)


def test_silent_server_socket_is_really_listening() -> None:
    """Guards the hang test: the port accepts TCP, so the timeout is the TLS handshake's."""
    with silent_server() as server, socket.create_connection((server.host, server.port), timeout=5):
        pass
