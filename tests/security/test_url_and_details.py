"""The EWS URL an admin types, and how a certificate is described."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ed25519

from calendar_app.security.certificate_details import describe_certificate
from calendar_app.security.chain_assessment import match_host_name
from calendar_app.security.ews_url import InvalidEwsUrlError, parse_ews_url
from tests.security.pki import Pki, issue


@pytest.mark.parametrize(("text", "url", "host", "port"), [
    ("https://Mail.Contoso.COM/EWS/Exchange.asmx", "https://mail.contoso.com/EWS/Exchange.asmx", "mail.contoso.com",
     443),
    ("  HTTPS://mail.contoso.com:8443/ews/exchange.asmx ", "https://mail.contoso.com:8443/ews/exchange.asmx",
     "mail.contoso.com", 8443),
    ("https://mail.contoso.com:443", "https://mail.contoso.com/", "mail.contoso.com", 443),
    ("https://[::1]:9443/EWS/Exchange.asmx", "https://[::1]:9443/EWS/Exchange.asmx", "::1", 9443),
    ("https://bücher.example/EWS", "https://xn--bcher-kva.example/EWS", "xn--bcher-kva.example", 443),
])
def test_urls_are_normalised(text: str, url: str, host: str, port: int) -> None:
    endpoint = parse_ews_url(text)
    assert (endpoint.url, endpoint.host, endpoint.port, endpoint.notes) == (url, host, port, ())


@pytest.mark.parametrize(("text", "fragment"), [
    ("", "No URL given"),
    ("ftp://mail.contoso.com/", "Not a URL"),
    ("https://user:pw@mail.contoso.com/", "must not contain a user name"),
    ("https://mail.contoso.com:0/", "port"),
    ("https:///EWS/Exchange.asmx", "Not a URL"),
    ("http//mail.contoso.com/", "plain http://"),
])
def test_bad_urls_say_what_to_do(text: str, fragment: str) -> None:
    with pytest.raises(InvalidEwsUrlError, match=fragment):
        parse_ews_url(text)


@pytest.mark.parametrize(("patterns", "host", "matches"), [
    (("mail.contoso.com",), "MAIL.contoso.com", True),
    (("*.contoso.com",), "mail.contoso.com", True),
    (("*.contoso.com",), "a.b.contoso.com", False),
    (("*.contoso.com",), "contoso.com", False),
    (("*.com",), "contoso.com", False),
    (("m*.contoso.com",), "mail.contoso.com", False),
])
def test_host_name_matching(patterns: tuple[str, ...], host: str, matches: bool) -> None:
    certificate = issue("x", dns_names=patterns, ip_addresses=()).certificate
    assert match_host_name(certificate, host)[0] is matches


def test_no_common_name_fallback() -> None:
    certificate = issue("mail.contoso.com", dns_names=(), ip_addresses=()).certificate
    matches, detail = match_host_name(certificate, "mail.contoso.com")
    assert not matches and "no subject alternative names" in detail


def openssl_fingerprint(openssl: str, pem: bytes, digest: str) -> str:
    out = subprocess.run([openssl, "x509", "-noout", "-fingerprint", f"-{digest}"], input=pem, capture_output=True,
                         check=True, timeout=30).stdout.decode()
    return out.strip().split("=", 1)[1]


def test_details_of_a_leaf(pki: Pki, openssl: str) -> None:
    now = datetime.now(UTC)
    details = describe_certificate(pki.leaf.certificate, now)
    rows = dict(details.rows())
    assert list(rows)[:3] == ["Subject", "Issuer", "Subject alternative names"]
    assert rows["Subject"] == "CN=localhost,O=Contoso Test"
    assert rows["Issuer"] == "CN=Contoso Issuing CA,O=Contoso Test"
    assert rows["Signature algorithm"] == "ecdsa-with-SHA256 (1.2.840.10045.4.3.2)"
    assert rows["SHA-1 fingerprint"] == openssl_fingerprint(openssl, pki.leaf.pem, "sha1")
    assert rows["SHA-256 fingerprint"] == openssl_fingerprint(openssl, pki.leaf.pem, "sha256")
    assert int(rows["Serial number"].replace(":", ""), 16) == pki.leaf.certificate.serial_number
    assert details.days_left in (363, 364)
    assert describe_certificate(pki.root.certificate, now).is_self_signed
    assert rows["Validity"] == f"{details.days_left} days left"


def test_details_of_an_ed25519_certificate_and_an_ec_key() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "ed")])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(1).not_valid_before(now - timedelta(days=1))
                   .not_valid_after(now + timedelta(days=5)).sign(key, None))
    details = describe_certificate(certificate, now)
    assert details.public_key == "Ed25519 (256 bits)" and details.is_self_signed and details.expiring_soon
    assert details.serial_number == "01"
    assert describe_certificate(issue("ec").certificate).public_key == "EC secp256r1 (256 bits)"
