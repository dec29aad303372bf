"""A local stand-in for Microsoft Exchange: EWS over HTTPS with real NTLM, impersonation rights, the calendar
operations, streaming notifications and fault injection. Imports none of the app's layers.

Embedding it (tests, `calendar-app --demo`, later the sync engine's and the wizard's tests)::

    from calendar_app.sandbox import SandboxConfig, SandboxServer, SandboxUser

    config = SandboxConfig(users=(SandboxUser("CONTOSO", "svc", "Secret-1"),),
                           mailboxes=("alice@contoso.com",))          # port 0: any free port
    with SandboxServer(config, state_dir) as server:                   # state_dir None: nothing kept
        server.url                 # https://127.0.0.1:PORT/EWS/Exchange.asmx
        server.port
        server.certificate_sha256  # "AB:CD:..." of the leaf the server presents now
        server.ca_pem, server.chain_pem   # the root to trust; leaf + root as presented
        server.mailboxes           # address (lower case) → Mailbox (folders, items, change log)
        server.calendar_items("alice@contoso.com")
        server.add_calendar_item("alice@contoso.com", "<t:CalendarItem xmlns:t=...>...")  # "another client"
        server.sent_messages("alice@contoso.com", kind="invitation")  # one per recipient
        server.set_impersonation("CONTOSO\\svc", "alice@contoso.com", allowed=False)
        server.faults.add("busy", value=2000, operation="CreateItem", times=1)   # see faults.py
        server.faults.clear()
        server.traffic_listeners.append(fn)   # fn(direction, operation, bytes) for every SOAP body
        server.internal_errors     # operations that crashed (each also answered ErrorInternalServerError)

    seed_demo_week(server, DEMO_MAILBOX, datetime.date.today())   # a plausible week for --demo

Rules (as the `calendar-app sandbox` command applies them): users sign in with NTLM as `DOMAIN\\name`;
a mailbox whose local part equals a user's name is that user's own (opened without impersonation); every
user may impersonate every mailbox unless denied. Channel binding is required by default
(`SandboxConfig.extended_protection`). State (items, change logs, sent messages, certificates) lives in
`state_dir`: `tls/` and `mailboxes/*.json`.

Where it knowingly differs from Exchange: NTLM only (raw NTLM tokens under `Negotiate` or `NTLM`; no
Kerberos/SPNEGO); recurring series are expanded for daily, weekly and absolute-monthly patterns only, without
modified or deleted occurrences, and single occurrences cannot be changed; date-times without an offset are
read in the TimeZoneContext's zone (UTC without one), known for the common Windows zone ids only; push
subscriptions are accepted but never delivered; no attachments or MIME content; ResolveNames searches the
sandbox's own mailboxes; MoveItem, CopyItem, FindFolder and the other operations not listed above are answered
as an Exchange without them would (ErrorSchemaValidation).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from calendar_app.sandbox.config import (
    DEMO_MAILBOX,
    DEMO_SERVICE_ACCOUNT,
    ConfigError,
    ExtendedProtection,
    SandboxConfig,
    SandboxUser,
)

if TYPE_CHECKING:
    from calendar_app.sandbox.demo_content import seed_demo_week
    from calendar_app.sandbox.faults import Fault, FaultInjector, parse_fault
    from calendar_app.sandbox.mailbox_store import Mailbox, SentMessage
    from calendar_app.sandbox.server import SandboxServer, extended_property_key

# The server (TLS material, NTLM, lxml) loads on first use, not with the package: the app's command
# line reads `sandbox.faults` and `sandbox.config` for its help text on every start, the window included.
_LAZY = {"seed_demo_week": "demo_content", "Fault": "faults", "FaultInjector": "faults", "parse_fault": "faults",
         "Mailbox": "mailbox_store", "SentMessage": "mailbox_store", "SandboxServer": "server",
         "extended_property_key": "server"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


__all__ = [
    "DEMO_MAILBOX",
    "DEMO_SERVICE_ACCOUNT",
    "ConfigError",
    "ExtendedProtection",
    "Fault",
    "FaultInjector",
    "Mailbox",
    "SandboxConfig",
    "SandboxServer",
    "SandboxUser",
    "SentMessage",
    "extended_property_key",
    "parse_fault",
    "seed_demo_week",
]
