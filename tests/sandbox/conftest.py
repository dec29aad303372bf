"""Fixtures for the sandbox tests: Microsoft's schema (loaded once), a sandbox per test whose every SOAP body —
each request a client sends and each response the sandbox writes — is validated against that schema, and an
exchangelib set-up configured the way our users' will be (NTLM, explicit endpoint, impersonation), trusting
the sandbox's own root CA for these tests only."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests.adapters

from calendar_app.sandbox import SandboxConfig, SandboxServer, SandboxUser
from calendar_app.sandbox.tls_material import load_or_create
from tests.sandbox.schema_check import SchemaChecker, schema_dir
from tests.support.system import require

SERVICE = SandboxUser("CONTOSO", "svc-calendar", "Svc-Pass-1")
ALICE = SandboxUser("CONTOSO", "alice", "Alice-Pass-1")
ALICE_MAILBOX = "alice@contoso.com"
BOB_MAILBOX = "bob@contoso.com"
CAROL_MAILBOX = "carol@contoso.com"  # the service account is denied impersonation of carol


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


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(
        users=(SERVICE, ALICE),
        mailboxes=(ALICE_MAILBOX, BOB_MAILBOX, CAROL_MAILBOX),
        denied_impersonations=frozenset({(SERVICE.account.lower(), CAROL_MAILBOX)}),
        streaming_heartbeat_seconds=5.0,
    )


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


@pytest.fixture
def sandbox(sandbox_config: SandboxConfig, tmp_path: Path, seeded_tls: Path,
            schema_checker: SchemaChecker) -> Iterator[SandboxServer]:
    server = start_checked(sandbox_config, tmp_path / "sandbox-state", seeded_tls, schema_checker)
    try:
        yield server
    finally:
        finish_checked(server, schema_checker)


@pytest.fixture
def trusted_ca(sandbox: SandboxServer, tmp_path: Path) -> Path:
    path = tmp_path / "sandbox-ca.pem"
    path.write_bytes(sandbox.ca_pem)
    return path


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


@pytest.fixture
def exchangelib_trusting_sandbox(trusted_ca: Path) -> Iterator[None]:
    with exchangelib_trusting(trusted_ca):
        yield


@pytest.fixture
def exchangelib_trusting_session_ca(seeded_tls: Path) -> Iterator[None]:
    """Trust for sandboxes a test starts itself from the session's certificate folder."""
    with exchangelib_trusting(seeded_tls / "sandbox-root-ca.pem"):
        yield


AccountFactory = Callable[..., Any]


@pytest.fixture
def make_account(sandbox: SandboxServer, exchangelib_trusting_sandbox: None) -> AccountFactory:
    """An exchangelib Account as our users configure it: Credentials + NTLM, explicit service endpoint,
    impersonation (or the user's own mailbox with delegate access)."""
    from exchangelib import DELEGATE, IMPERSONATION, NTLM, Account, Configuration, Credentials, EWSTimeZone

    def make(mailbox: str = ALICE_MAILBOX, user: SandboxUser = SERVICE, password: str | None = None,
             impersonate: bool = True, max_connections: int = 2) -> Any:
        credentials = Credentials(user.account, password if password is not None else user.password)
        config = Configuration(service_endpoint=sandbox.url, credentials=credentials, auth_type=NTLM,
                               max_connections=max_connections)
        return Account(mailbox, config=config, access_type=IMPERSONATION if impersonate else DELEGATE,
                       autodiscover=False, default_timezone=EWSTimeZone("Europe/Berlin"))

    return make
