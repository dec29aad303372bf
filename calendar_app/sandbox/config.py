"""What a sandbox serves: host and port, users and passwords, mailboxes, impersonation denials, faults.

`SandboxConfig.from_cli_values` applies the command line's rules: every user may impersonate every mailbox
unless denied, and a mailbox whose local part equals a user's name is that user's own."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class ConfigError(ValueError):
    """A configuration value the user can fix; the message says what and how."""


class ExtendedProtection(Enum):
    """IIS "Extended Protection for Authentication" for the EWS virtual directory."""

    OFF = "off"  # channel bindings are ignored
    ALLOW = "allow"  # checked when the client sends them
    REQUIRE = "require"  # a client without them is refused


@dataclass(frozen=True)
class SandboxUser:
    domain: str
    name: str
    password: str

    @property
    def account(self) -> str:
        return f"{self.domain}\\{self.name}" if self.domain else self.name

    @classmethod
    def parse(cls, value: str) -> SandboxUser:
        """'DOMAIN\\name:password'."""
        account, separator, password = value.partition(":")
        domain, backslash, name = account.partition("\\")
        if not separator or not password or not backslash or not domain or not name:
            raise ConfigError(f"--user {value.split(':', maxsplit=1)[0]!r}: expected 'DOMAIN\\name:password', "
                              r"for example 'CONTOSO\alice:Secret-1'")
        return cls(domain.upper(), name, password)


@dataclass(frozen=True)
class SandboxConfig:
    host: str = "127.0.0.1"
    port: int = 0
    users: tuple[SandboxUser, ...] = ()
    mailboxes: tuple[str, ...] = ()
    denied_impersonations: frozenset[tuple[str, str]] = frozenset()  # (account lower, smtp lower)
    allow_basic: bool = False
    extended_protection: ExtendedProtection = ExtendedProtection.REQUIRE
    faults: tuple[str, ...] = ()
    streaming_heartbeat_seconds: float = 30.0

    @classmethod
    def demo(cls, host: str = "127.0.0.1", port: int = 0) -> SandboxConfig:
        """No options: one service account that may impersonate one sales rep's mailbox."""
        return cls(host=host, port=port, users=(DEMO_SERVICE_ACCOUNT,), mailboxes=(DEMO_MAILBOX,))

    @classmethod
    def from_cli_values(cls, *, host: str, port: int, users: list[str], mailboxes: list[str],
                        denials: list[str], faults: list[str], allow_basic: bool = False) -> SandboxConfig:
        port = _check_port(port)
        if not users and not mailboxes and not denials:
            demo = cls.demo(host, port)
            return cls(host=host, port=port, users=demo.users, mailboxes=demo.mailboxes, faults=tuple(faults),
                       allow_basic=allow_basic)
        parsed_users = tuple(SandboxUser.parse(value) for value in users)
        if not parsed_users:
            raise ConfigError("--mailbox needs at least one --user who can sign in, "
                              "e.g. --user 'CONTOSO\\svc:Secret-1'")
        for address in mailboxes:
            _check_address(address, "--mailbox")
        denied = set()
        for value in denials:
            account, separator, address = value.partition(":")
            if not separator or "\\" not in account:
                raise ConfigError(f"--deny-impersonation {value!r}: expected 'DOMAIN\\name:SMTP', "
                                  r"for example 'CONTOSO\svc:bob@contoso.com'")
            _check_address(address, "--deny-impersonation")
            domain, _, name = account.partition("\\")
            denied.add((f"{domain.upper()}\\{name}".lower(), address.lower()))
        return cls(host=host, port=port, users=parsed_users, mailboxes=tuple(mailboxes),
                   denied_impersonations=frozenset(denied), faults=tuple(faults), allow_basic=allow_basic)


DEMO_SERVICE_ACCOUNT = SandboxUser("SANDBOX", "svc-calendar", "Sandbox-Demo-1")
DEMO_MAILBOX = "rep@sandbox.test"


def _check_address(address: str, option: str) -> None:
    local, at, domain = address.partition("@")
    if not at or not local or "." not in domain:
        raise ConfigError(f"{option} {address!r}: expected an SMTP address such as alice@contoso.com")


def _check_port(port: int) -> int:
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port {port}: expected 0 (any free port) to 65535")
    return port
