"""Fixtures for the sandbox tests: Microsoft's schema (loaded once), a sandbox per test whose every SOAP body —
each request a client sends and each response the sandbox writes — is validated against that schema, and an
exchangelib set-up configured the way our users' will be (NTLM, explicit endpoint, impersonation), trusting
the sandbox's own root CA for these tests only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from calendar_app.sandbox import SandboxConfig, SandboxServer, SandboxUser
from tests.sandbox.fixtures import (
    ews_schema,
    exchangelib_trusting,
    finish_checked,
    schema_checker,
    seeded_tls,
    start_checked,
)
from tests.sandbox.schema_check import SchemaChecker

SERVICE = SandboxUser("CONTOSO", "svc-calendar", "Svc-Pass-1")
ALICE = SandboxUser("CONTOSO", "alice", "Alice-Pass-1")
ALICE_MAILBOX = "alice@contoso.com"
BOB_MAILBOX = "bob@contoso.com"
CAROL_MAILBOX = "carol@contoso.com"  # the service account is denied impersonation of carol
__all__ = ["ews_schema", "finish_checked", "schema_checker", "seeded_tls", "start_checked"]  # fixtures re-used


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(
        users=(SERVICE, ALICE),
        mailboxes=(ALICE_MAILBOX, BOB_MAILBOX, CAROL_MAILBOX),
        denied_impersonations=frozenset({(SERVICE.account.lower(), CAROL_MAILBOX)}),
        streaming_heartbeat_seconds=5.0,
    )


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
