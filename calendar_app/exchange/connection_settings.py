"""What the exchange layer needs to reach one rep's mailbox: plain data, no secrets kept."""

from __future__ import annotations

from dataclasses import dataclass

from calendar_app.domain.sign_in import AuthType, SignInMode

__all__ = ["AuthType", "ConnectionSettings", "SignInMode"]


@dataclass(frozen=True)
class ConnectionSettings:
    ews_url: str
    mailbox: str  # the rep's primary SMTP address
    username: str  # DOMAIN\\user or a UPN
    sign_in_mode: SignInMode = SignInMode.IMPERSONATION
    auth_type: AuthType = AuthType.NTLM
    # "build|api_version" read on first contact and pinned, so later sessions skip the probing
    server_version: str = ""
    timeout_seconds: float = 30.0
    # One for saves and pulls, one held by the streaming subscription, one spare: a stream
    # must never make a save wait (see NOTES-exchangelib.md).
    max_connections: int = 3
