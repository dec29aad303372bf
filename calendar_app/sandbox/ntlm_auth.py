"""NTLM over HTTP as IIS does it for EWS, with pyspnego as the acceptor.

- An unauthenticated request gets 401 with `WWW-Authenticate: Negotiate` and `WWW-Authenticate: NTLM`
  (and Basic when enabled).
- The three-leg handshake runs on one keep-alive connection; afterwards the *connection* is authenticated
  and later requests on it need no Authorization header (requests-ntlm relies on this).
- Channel binding (Extended Protection): the client's MsvAvChannelBindings must equal the MD5 of the
  `tls-server-end-point` binding of our certificate; with REQUIRE a client that sends none is refused.

pyspnego's acceptor reads its user database from the file named by `NTLM_USER_FILE`. Each sandbox writes
its own file (mode 0600, in a private temporary folder removed on stop) and the process-wide variable is
set only while holding a lock around the acceptor calls, so several sandboxes can run in one process."""

from __future__ import annotations

import base64
import os
import shutil
import struct
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import spnego
from spnego.channel_bindings import GssChannelBindings
from spnego.exceptions import SpnegoError

from calendar_app.sandbox.config import ExtendedProtection, SandboxUser
from calendar_app.sandbox.rights import Rights

_ENVIRONMENT_LOCK = threading.Lock()
_NTLM_SIGNATURE = b"NTLMSSP\x00"
_MSV_AV_CHANNEL_BINDINGS = 0x000A
_MSV_AV_EOL = 0x0000


@dataclass
class ConnectionAuthState:
    """Kept per TCP connection by the HTTP handler."""

    channel_binding: bytes  # tls-server-end-point data of the certificate this connection presented
    user: SandboxUser | None = None
    context: Any = None
    scheme: str = ""


@dataclass
class AuthOutcome:
    user: SandboxUser | None
    headers: list[tuple[str, str]] = field(default_factory=list)  # WWW-Authenticate for a 401
    reason: str = ""


class NtlmAuthenticator:
    def __init__(self, rights: Rights, users: tuple[SandboxUser, ...], *, allow_basic: bool,
                 protection: ExtendedProtection) -> None:
        self.rights = rights
        self.allow_basic = allow_basic
        self.protection = protection
        self._folder = Path(tempfile.mkdtemp(prefix="ews-sandbox-ntlm-"))
        self._user_file = self._folder / "users"
        self.write_users(users)

    def write_users(self, users: tuple[SandboxUser, ...]) -> None:
        lines = "".join(f"{user.domain}:{user.name}:{user.password}\n" for user in users)
        descriptor = os.open(self._user_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(lines)

    def close(self) -> None:
        shutil.rmtree(self._folder, ignore_errors=True)

    def challenge_headers(self) -> list[tuple[str, str]]:
        headers = [("WWW-Authenticate", "Negotiate"), ("WWW-Authenticate", "NTLM")]
        if self.allow_basic:
            headers.append(("WWW-Authenticate", 'Basic realm="sandbox"'))
        return headers

    def authenticate(self, state: ConnectionAuthState, authorization: str | None) -> AuthOutcome:
        if not authorization:
            if state.user is not None:
                return AuthOutcome(state.user)
            return AuthOutcome(None, self.challenge_headers(), "no credentials")
        scheme, _, token_text = authorization.strip().partition(" ")
        scheme_lower = scheme.lower()
        if scheme_lower == "basic":
            return self._basic(token_text)
        if scheme_lower not in ("ntlm", "negotiate"):
            return AuthOutcome(None, self.challenge_headers(), f"unsupported scheme {scheme}")
        try:
            token = base64.b64decode(token_text.strip(), validate=True)
        except ValueError:
            return AuthOutcome(None, self.challenge_headers(), "malformed token")
        if not token.startswith(_NTLM_SIGNATURE) or len(token) < 12:
            return AuthOutcome(None, self.challenge_headers(), "not an NTLM token (Kerberos is not offered)")
        message_type = struct.unpack("<I", token[8:12])[0]
        if message_type == 1:
            state.user = None
            with self._acceptor_environment():
                state.context = spnego.server(protocol="ntlm")
                challenge = state.context.step(token)
            state.scheme = scheme
            return AuthOutcome(None, [("WWW-Authenticate", f"{scheme} {base64.b64encode(challenge).decode()}")],
                               "challenge sent")
        if message_type == 3 and state.context is not None:
            context, state.context = state.context, None
            return self._finish(state, context, token)
        return AuthOutcome(None, self.challenge_headers(), "unexpected NTLM message")

    def _finish(self, state: ConnectionAuthState, context: Any, token: bytes) -> AuthOutcome:
        client_binding = _client_channel_binding(token)
        bindings = None
        if self.protection is ExtendedProtection.REQUIRE:
            if client_binding is None or client_binding == b"\x00" * 16:
                return AuthOutcome(None, self.challenge_headers(), "channel binding required but not sent")
            bindings = GssChannelBindings(application_data=state.channel_binding)
        elif self.protection is ExtendedProtection.ALLOW and client_binding not in (None, b"\x00" * 16):
            bindings = GssChannelBindings(application_data=state.channel_binding)
        try:
            with self._acceptor_environment():
                context.step(token, channel_bindings=bindings)
        except SpnegoError as error:
            return AuthOutcome(None, self.challenge_headers(), f"NTLM refused: {error}")
        principal = str(context.client_principal or "")
        user = self.rights.user(principal)
        if user is None:
            return AuthOutcome(None, self.challenge_headers(), f"unknown account {principal}")
        state.user = user
        return AuthOutcome(user)

    def _basic(self, token_text: str) -> AuthOutcome:
        if not self.allow_basic:
            return AuthOutcome(None, self.challenge_headers(), "Basic is not enabled")
        try:
            decoded = base64.b64decode(token_text.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return AuthOutcome(None, self.challenge_headers(), "malformed Basic credentials")
        account, _, password = decoded.partition(":")
        user = self.rights.check_password(account, password)
        if user is None:
            return AuthOutcome(None, self.challenge_headers(), "wrong user name or password")
        return AuthOutcome(user)  # Basic authenticates the request, not the connection

    @contextmanager
    def _acceptor_environment(self) -> Iterator[None]:
        with _ENVIRONMENT_LOCK:
            previous = os.environ.get("NTLM_USER_FILE")
            os.environ["NTLM_USER_FILE"] = str(self._user_file)
            try:
                yield
            finally:
                if previous is None:
                    os.environ.pop("NTLM_USER_FILE", None)
                else:
                    os.environ["NTLM_USER_FILE"] = previous


def _client_channel_binding(token: bytes) -> bytes | None:
    """The MsvAvChannelBindings value in an NTLMv2 AUTHENTICATE message, None when absent (or NTLMv1)."""
    if len(token) < 28:
        return None
    length, _, offset = struct.unpack("<HHI", token[20:28])
    response = token[offset:offset + length]
    # NTProofStr (16) + RespType, HiRespType, Reserved1 (4) + Reserved2 (4) + TimeStamp (8)
    # + ChallengeFromClient (8) + Reserved3 (4) → AV pairs
    position = 16 + 28
    if len(response) <= position:
        return None
    while position + 4 <= len(response):
        av_id, av_length = struct.unpack("<HH", response[position:position + 4])
        if av_id == _MSV_AV_EOL:
            return None
        value = response[position + 4:position + 4 + av_length]
        if av_id == _MSV_AV_CHANNEL_BINDINGS:
            return value
        position += 4 + av_length
    return None
