"""The EWS address an admin types, checked and normalised before anything connects to it."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

DEFAULT_HTTPS_PORT = 443
EXAMPLE_URL = "https://mail.example.com/EWS/Exchange.asmx"

# The integration guide prints the address as "https//mail.…/ews/Exchange.asmx"; admins copy it.
_MISSING_COLON = re.compile(r"^(https?)//", re.IGNORECASE)
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$", re.IGNORECASE)


class InvalidEwsUrlError(ValueError):
    """The text is not an HTTPS URL we can connect to. `str()` says what to type instead."""


@dataclass(frozen=True)
class EwsEndpoint:
    url: str  # normalised: scheme and host in lower case, "https://"
    host: str  # as used for SNI and host name checking (IDNA-encoded, no brackets)
    port: int
    notes: tuple[str, ...] = ()  # what was corrected, for the admin to see

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_ews_url(text: str) -> EwsEndpoint:
    """Check an EWS URL; fix the documented `https//` typo (and say so); refuse anything but HTTPS."""
    raw = text.strip()
    notes: list[str] = []
    if not raw:
        raise InvalidEwsUrlError(f"No URL given. Enter the Exchange server's EWS address, e.g. {EXAMPLE_URL}")
    if any(ch.isspace() for ch in raw):
        raise InvalidEwsUrlError(f"Not a URL: {raw!r} contains spaces. Enter the EWS address, e.g. {EXAMPLE_URL}")
    typo = _MISSING_COLON.match(raw)
    if typo:
        raw = f"{typo.group(1)}://{raw[typo.end():]}"
        notes.append(f"Corrected '{typo.group(0)}' to '{typo.group(1)}://' (the colon is missing in the "
                     "integration guide's example).")
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme == "http":
        raise InvalidEwsUrlError(
            f"Refusing {raw!r}: plain http:// would send the sign-in and the calendar unencrypted. "
            f"Use the server's https:// address, e.g. {EXAMPLE_URL}")
    if scheme != "https" or not parts.netloc:
        hint = f" Did you mean https://{raw}?" if not parts.scheme and "." in raw and "/" not in raw[:1] else ""
        raise InvalidEwsUrlError(f"Not a URL: {text.strip()!r}. Enter the full https:// address of the "
                                 f"Exchange server's EWS, e.g. {EXAMPLE_URL}.{hint}")
    if parts.username or parts.password:
        raise InvalidEwsUrlError("The URL must not contain a user name or password; enter those on the "
                                 "Authentication page.")
    try:
        explicit_port = parts.port
    except ValueError as error:
        raise InvalidEwsUrlError(f"The port in {raw!r} is not a number between 1 and 65535.") from error
    if explicit_port == 0:
        raise InvalidEwsUrlError(f"The port in {raw!r} is not a number between 1 and 65535.")
    port = explicit_port or DEFAULT_HTTPS_PORT
    host = _normalise_host(parts.hostname or "", raw)
    netloc = f"[{host}]" if ":" in host else host
    if parts.port and parts.port != DEFAULT_HTTPS_PORT:
        netloc = f"{netloc}:{port}"
    url = urlunsplit(("https", netloc, parts.path or "/", parts.query, ""))
    return EwsEndpoint(url=url, host=host, port=port, notes=tuple(notes))


def _normalise_host(host: str, raw: str) -> str:
    if not host:
        raise InvalidEwsUrlError(f"No server name in {raw!r}. Enter e.g. {EXAMPLE_URL}")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii").lower().rstrip(".")
    except UnicodeError as error:
        raise InvalidEwsUrlError(f"{host!r} is not a valid server name.") from error
    labels = ascii_host.split(".")
    if not all(_HOST_LABEL.match(label) for label in labels):
        raise InvalidEwsUrlError(f"{host!r} is not a valid server name (letters, digits, dots and dashes only).")
    return ascii_host
