"""The pinned transport against two real local HTTPS servers for the same host name."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from calendar_app.security.certificate_details import sha256_fingerprint
from calendar_app.security.pinned_transport import (
    CertificateChangedError,
    PinnedTlsAdapter,
    PinnedTlsError,
    TrustSettingRefusedError,
    pinned_adapter_class,
    pinned_ssl_context,
)
from tests.security.pki import Pki, RunningServer, https_server, issue, make_pki


@pytest.fixture(scope="module")
def other_pki() -> Pki:
    return make_pki("Intruder")


@pytest.fixture(scope="module")
def pinned_server(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with https_server(tmp_path_factory.mktemp("pinned"), pki.leaf, [pki.intermediate], b"pinned-ok") as server:
        yield server


@pytest.fixture(scope="module")
def other_server(other_pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with https_server(tmp_path_factory.mktemp("other"), other_pki.leaf, [other_pki.intermediate],
                      b"intruder") as server:
        yield server


@pytest.fixture
def other_ca_bundle(other_pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bundle = tmp_path / "other-ca.pem"
    bundle.write_bytes(other_pki.root.pem)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(bundle))
    return bundle


def pinned_session(*trusted: object) -> requests.Session:
    session = requests.Session()
    session.mount("https://", PinnedTlsAdapter(trusted))  # type: ignore[arg-type]
    return session


def test_the_environment_bundle_really_trusts_the_other_server(other_server: RunningServer,
                                                                other_ca_bundle: Path) -> None:
    """Control: without the pinned adapter, REQUESTS_CA_BUNDLE makes requests trust the intruder."""
    with requests.Session() as session:
        assert session.get(other_server.url_by_name, timeout=10).content == b"intruder"


def test_pinned_leaf_accepts_the_pinned_server(pki: Pki, pinned_server: RunningServer) -> None:
    with pinned_session(pki.leaf.certificate) as session:
        assert session.get(pinned_server.url_by_name, timeout=10).content == b"pinned-ok"


def test_pinned_root_accepts_a_chain_it_issued(pki: Pki, pinned_server: RunningServer) -> None:
    with pinned_session(pki.root.certificate) as session:
        assert session.get(pinned_server.url_by_name, timeout=10).content == b"pinned-ok"


@pytest.mark.parametrize("session_verify", [True, False])
def test_another_server_for_the_same_host_is_refused_despite_the_environment(
        pki: Pki, other_pki: Pki, other_server: RunningServer, other_ca_bundle: Path, session_verify: bool) -> None:
    with pinned_session(pki.leaf.certificate) as session:
        session.verify = session_verify  # neither True+env bundle nor False may weaken the pin
        with pytest.raises(CertificateChangedError) as caught:
            session.get(other_server.url_by_name, timeout=10)
    error = caught.value
    assert error.pinned_fingerprints == (sha256_fingerprint(pki.leaf.certificate),)
    assert error.presented_fingerprint == sha256_fingerprint(other_pki.leaf.certificate)
    message = str(error)
    assert sha256_fingerprint(pki.leaf.certificate) in message
    assert sha256_fingerprint(other_pki.leaf.certificate) in message


def test_a_trusted_certificate_for_another_host_name_is_refused(tmp_path: Path) -> None:
    leaf = issue("exchange.contoso.test", dns_names=("exchange.contoso.test",), ip_addresses=())
    with (https_server(tmp_path, leaf, [], b"wrong-host") as server, pinned_session(leaf.certificate) as session,
          pytest.raises(PinnedTlsError, match="presents the trusted certificate") as caught):
        session.get(server.url, timeout=10)
    assert not isinstance(caught.value, CertificateChangedError)
    assert "127.0.0.1" in str(caught.value)


def test_the_pinned_context_cannot_be_widened_or_switched_off(pki: Pki, other_ca_bundle: Path) -> None:
    context = pinned_ssl_context([pki.leaf.certificate])
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    with pytest.raises(TrustSettingRefusedError):
        context.load_verify_locations(cafile=str(other_ca_bundle))
    with pytest.raises(TrustSettingRefusedError):
        context.load_default_certs()
    with pytest.raises(TrustSettingRefusedError):
        context.check_hostname = False  # must be refused
    with pytest.raises(TrustSettingRefusedError):
        context.verify_mode = ssl.CERT_NONE  # must be refused
    assert context.cert_store_stats()["x509"] == 1  # still only the pinned certificate


def test_plain_http_is_refused(pki: Pki) -> None:
    session = requests.Session()
    session.mount("http://", PinnedTlsAdapter([pki.leaf.certificate]))
    with session, pytest.raises(TrustSettingRefusedError, match="without TLS"):
        session.get("http://127.0.0.1:9/", timeout=10)


def test_a_bound_adapter_class_for_libraries_that_build_adapters(pki: Pki, pinned_server: RunningServer) -> None:
    adapter_class = pinned_adapter_class([pki.leaf.certificate])
    with requests.Session() as session:
        session.mount("https://", adapter_class(pool_connections=2, pool_maxsize=2))
        assert session.get(pinned_server.url_by_name, timeout=10).content == b"pinned-ok"
