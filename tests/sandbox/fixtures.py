"""Reusable pieces for any test that runs the sandbox (import them into a conftest.py to use the fixtures):

- `ews_schema` / `schema_checker` (session): Microsoft's schema, loaded once, and a traffic checker;
- `seeded_tls` (session): one certificate chain for every sandbox of the session;
- `start_checked(config, state_dir, seeded_tls, checker)` / `finish_checked(server, checker)`: a sandbox whose
  every SOAP body (requests and responses) is validated; finishing fails on any violation or server crash;
- `exchangelib_trusting(ca_file)`: exchangelib trusts that CA for the duration (restored afterwards).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests.adapters

from calendar_app.sandbox import SandboxConfig, SandboxServer
from calendar_app.sandbox.tls_material import load_or_create
from tests.sandbox.schema_check import SchemaChecker, schema_dir
from tests.support.system import require


@pytest.fixture(scope="session")
def ews_schema() -> Any:
    directory = schema_dir()
    require(directory is not None, "Microsoft's EWS schema (../shared/ews-schema beside the clone)",
            "copy the shared/ folder next to the repository or set EWS_SCHEMA_DIR")
    assert directory is not None
    import xmlschema

    return xmlschema.XMLSchema(str(directory / "messages.xsd"), validation="lax")


@pytest.fixture(scope="session")
def schema_checker(ews_schema: Any) -> SchemaChecker:
    return SchemaChecker(ews_schema)


@pytest.fixture(scope="session")
def seeded_tls(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One certificate chain for the whole session: generating RSA keys for every test would be slow."""
    folder = tmp_path_factory.mktemp("sandbox-tls")
    load_or_create(folder, "127.0.0.1")
    return folder


def start_checked(config: SandboxConfig, state_dir: Path, seeded_tls: Path, checker: SchemaChecker) -> SandboxServer:
    if not (state_dir / "tls").exists():
        shutil.copytree(seeded_tls, state_dir / "tls")
    server = SandboxServer(config, state_dir)
    server.traffic_listeners.append(checker)
    return server.start()


def finish_checked(server: SandboxServer, checker: SchemaChecker) -> None:
    server.stop()
    violations = checker.take_violations()
    assert not violations, "SOAP traffic that violates Microsoft's EWS schema:\n" + "\n".join(map(str, violations))
    assert not server.internal_errors, f"the sandbox crashed on: {server.internal_errors}"


@contextmanager
def exchangelib_trusting(ca_file: Path) -> Iterator[None]:
    """exchangelib's documented hook for TLS: an adapter class on BaseProtocol. Ours verifies against the
    sandbox's root only; it is set for one test and restored after (the app's pinned transport is separate)."""
    from exchangelib.protocol import BaseProtocol, CachingProtocol

    class SandboxTrustAdapter(requests.adapters.HTTPAdapter):
        def send(self, request: Any, **kwargs: Any) -> Any:
            kwargs["verify"] = str(ca_file)
            return super().send(request, **kwargs)

    previous = BaseProtocol.HTTP_ADAPTER_CLS
    BaseProtocol.HTTP_ADAPTER_CLS = SandboxTrustAdapter
    try:
        yield
    finally:
        CachingProtocol.clear_cache()
        BaseProtocol.HTTP_ADAPTER_CLS = previous
