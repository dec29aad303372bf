"""Fixtures for the certificate and keystore tests: one generated PKI per session and real servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.security.pki import Pki, RunningServer, make_pki, openssl_server
from tests.support.system import require_program


@pytest.fixture(scope="session")
def pki() -> Pki:
    return make_pki("Contoso")


@pytest.fixture(scope="session")
def openssl() -> str:
    return require_program("openssl", "openssl")


@pytest.fixture(scope="session")
def keytool() -> str:
    return require_program("keytool", "default-jre-headless")


@pytest.fixture(scope="session")
def chain_server(openssl: str, pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """openssl s_server presenting leaf → intermediate (the root stays with the client, as in real life)."""
    with openssl_server(openssl, tmp_path_factory.mktemp("s_server"), pki.leaf, [pki.intermediate]) as server:
        yield server


@pytest.fixture
def data_file(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "input"
