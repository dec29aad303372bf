"""How a desktop signs in to Exchange: plain names shared by the wizard, the settings and the
exchange layer."""

from __future__ import annotations

import enum


class SignInMode(enum.StrEnum):
    # the documented set-up: one service account acting for the rep through ExchangeImpersonation
    IMPERSONATION = "impersonation"
    # the rep signs in as themselves: no account on this desktop can reach other mailboxes
    OWN_ACCOUNT = "own-account"


class AuthType(enum.StrEnum):
    NTLM = "NTLM"
    BASIC = "Basic"
