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

Rules (as the `calendar-app sandbox` command applies them): users sign in with NTLM as `DOMAIN\\name`;
a mailbox whose local part equals a user's name is that user's own (opened without impersonation); every
user may impersonate every mailbox unless denied. Channel binding is required by default
(`SandboxConfig.extended_protection`). State (items, change logs, sent messages, certificates) lives in
`state_dir`: `tls/` and `mailboxes/*.json`.
"""

from calendar_app.sandbox.config import (
    DEMO_MAILBOX,
    DEMO_SERVICE_ACCOUNT,
    ConfigError,
    ExtendedProtection,
    SandboxConfig,
    SandboxUser,
)
from calendar_app.sandbox.faults import Fault, FaultInjector, parse_fault
from calendar_app.sandbox.mailbox_store import Mailbox, SentMessage
from calendar_app.sandbox.server import SandboxServer, extended_property_key

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
]
