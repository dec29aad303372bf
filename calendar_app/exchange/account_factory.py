"""Build an exchangelib Account for the rep's mailbox over our own pinned-TLS transport.

exchangelib has no per-connection TLS option; its documented hook (HTTP_ADAPTER_CLS) is
process-wide. So each connection gets a Protocol subclass whose sessions mount *our* adapter
instance factory, and that protocol is created before the Account: exchangelib caches protocols
per (endpoint, credentials), so the Account picks ours up instead of building its own.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

import requests.adapters
from exchangelib import (
    DELEGATE,
    IMPERSONATION,
    NTLM,
    Account,
    Build,
    Configuration,
    Credentials,
    EWSTimeZone,
    FailFast,
    Version,
)
from exchangelib.protocol import BaseProtocol, Protocol
from exchangelib.transport import BASIC

from calendar_app.exchange.connection_settings import AuthType, ConnectionSettings, SignInMode
from calendar_app.exchange.response_guard import check_answer
from calendar_app.logging_setup import register_secret

log = logging.getLogger(__name__)

AdapterFactory = Callable[[], requests.adapters.HTTPAdapter]

_factories_lock = threading.Lock()


class PinnedProtocol(Protocol):
    """A Protocol whose every HTTP session goes through the adapter made by `adapter_factory`.

    `raw_session` is a classmethod upstream; the instance method here shadows it, so
    `self.raw_session(...)` in `create_session` reaches us and the adapter cannot be bypassed."""

    adapter_factory: AdapterFactory | None = None

    def raw_session(self, prefix: str, oauth2_client: Any = None, oauth2_session_params: Any = None,
                    oauth2_token_endpoint: Any = None) -> requests.Session:
        session: requests.Session = BaseProtocol.raw_session.__func__(
            type(self), prefix, oauth2_client, oauth2_session_params, oauth2_token_endpoint)
        factory = self.adapter_factory
        if factory is None:
            raise RuntimeError("PinnedProtocol used without a transport")
        adapter = factory()
        adapter.max_retries = requests.adapters.Retry(total=0, read=False)
        session.mount(prefix, adapter)
        # requests merges REQUESTS_CA_BUNDLE & co. into `verify` per request; the adapter
        # ignores `verify`, and not trusting the environment also keeps proxies out.
        session.trust_env = False
        # Says what the server sent when it is not EWS (an HTML page, junk, a huge body), while the
        # body is still at hand; exchangelib would only say "No Body element in SOAP response".
        session.hooks["response"].append(check_answer)
        return session


def parse_server_version(text: str) -> Version | None:
    """'15.1.2507.6|Exchange2016' → Version; anything else → None (probe once)."""
    try:
        build_text, api_version = text.split("|", 1)
        numbers = [int(x) for x in build_text.split(".")]
        return Version(build=Build(*numbers[:4]), api_version=api_version)
    except (ValueError, TypeError):
        return None


def format_server_version(version: Version) -> str:
    build = version.build
    return (f"{build.major_version}.{build.minor_version}.{build.major_build}.{build.minor_build}"
            f"|{version.api_version}")


def make_account(settings: ConnectionSettings, password: str, adapter_factory: AdapterFactory,
                 *, timezone: str) -> Account:
    """An Account for the rep's mailbox. Costs no network until first used."""
    register_secret(password)
    credentials = Credentials(username=settings.username, password=password)
    config = Configuration(
        service_endpoint=settings.ews_url,
        credentials=credentials,
        auth_type=NTLM if settings.auth_type is AuthType.NTLM else BASIC,
        version=parse_server_version(settings.server_version),
        retry_policy=FailFast(),
        max_connections=settings.max_connections,
    )
    with _factories_lock:
        # A protocol cached for these credentials may hold an adapter that trusts an old
        # certificate: replace it so the new trust applies from the next request on.
        with contextlib.suppress(KeyError):
            del Protocol[config]
        protocol = PinnedProtocol(config=config)  # registers itself in exchangelib's protocol cache
        # set before any session exists: Protocol.__init__ opens none
        protocol.adapter_factory = adapter_factory
        protocol.TIMEOUT = settings.timeout_seconds
    access_type = IMPERSONATION if settings.sign_in_mode is SignInMode.IMPERSONATION else DELEGATE
    return Account(
        primary_smtp_address=settings.mailbox,
        config=config,
        autodiscover=False,
        access_type=access_type,
        default_timezone=EWSTimeZone(timezone),
    )


def close_account(account: Account) -> None:
    """Close the account's connections and forget its cached protocol."""
    protocol = account.protocol
    try:
        protocol.close()
    finally:
        with contextlib.suppress(KeyError):
            del Protocol[protocol.config]
