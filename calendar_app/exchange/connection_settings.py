"""What the exchange layer needs to reach one rep's mailbox: plain data, no secrets kept."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class SignInMode(enum.StrEnum):
    # the documented set-up: one service account acting for the rep through ExchangeImpersonation
    IMPERSONATION = "impersonation"
    # the rep signs in as themselves: no account on this desktop can reach other mailboxes
    OWN_ACCOUNT = "own-account"


class AuthType(enum.StrEnum):
    NTLM = "NTLM"
    BASIC = "Basic"


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
