"""Who may open which mailbox: owners open their own directly; service accounts reach others through
`ExchangeImpersonation`, unless denied. Failures are SOAP faults with HTTP 500, as Exchange sends them."""

from __future__ import annotations

from typing import Any

from calendar_app.sandbox.config import SandboxConfig, SandboxUser
from calendar_app.sandbox.soap import SoapFault, t

IMPERSONATION_DENIED = "The account does not have permission to impersonate the requested user."
NO_MAILBOX = "The SMTP address has no mailbox associated with it."


class Rights:
    def __init__(self, config: SandboxConfig) -> None:
        self.users = {user.account.lower(): user for user in config.users}
        self.mailboxes = {address.lower(): address for address in config.mailboxes}
        self.denied = set(config.denied_impersonations)

    def user(self, account: str) -> SandboxUser | None:
        return self.users.get(account.lower())

    def check_password(self, account: str, password: str) -> SandboxUser | None:
        """For Basic: 'DOMAIN\\name' or a UPN 'name@...' whose local part names a user."""
        candidate = self.users.get(account.lower())
        if candidate is None and "@" in account:
            local = account.split("@", 1)[0].lower()
            matches = [user for user in self.users.values() if user.name.lower() == local]
            candidate = matches[0] if len(matches) == 1 else None
        if candidate is not None and candidate.password == password:
            return candidate
        return None

    def own_mailbox(self, user: SandboxUser) -> str | None:
        for address in self.mailboxes.values():
            if address.split("@", 1)[0].lower() == user.name.lower():
                return address
        return None

    def deny(self, account: str, address: str) -> None:
        self.denied.add((account.lower(), address.lower()))

    def grant(self, account: str, address: str) -> None:
        self.denied.discard((account.lower(), address.lower()))

    def may_impersonate(self, user: SandboxUser, address: str) -> bool:
        return (user.account.lower(), address.lower()) not in self.denied

    def mailbox_for(self, user: SandboxUser, header: Any) -> str | None:
        """The mailbox a request acts on: the impersonated one, else the caller's own (None if it has none)."""
        impersonation = header.find(t("ExchangeImpersonation")) if header is not None else None
        if impersonation is None:
            return self.own_mailbox(user)
        sid = impersonation.find(t("ConnectingSID"))
        if sid is None or not len(sid):
            raise SoapFault("ErrorSchemaValidation", "The request failed schema validation: ConnectingSID is empty.")
        kind = sid[0].tag.split("}", 1)[-1]
        value = (sid[0].text or "").strip()
        address = self._resolve(kind, value)
        if address is None:
            raise SoapFault("ErrorNonExistentMailbox", NO_MAILBOX)
        if not self.may_impersonate(user, address):
            raise SoapFault("ErrorImpersonateUserDenied", IMPERSONATION_DENIED)
        return address

    def _resolve(self, kind: str, value: str) -> str | None:
        if kind in ("PrimarySmtpAddress", "SmtpAddress"):
            return self.mailboxes.get(value.lower())
        if kind == "PrincipalName":
            # A UPN: in this sandbox, as in most organisations, the UPN equals the primary SMTP address.
            return self.mailboxes.get(value.lower())
        return None  # SID: the sandbox has no directory of SIDs
