"""Connect to a server and take the certificate chain it presents, trusting nothing yet.

Python 3.11's `ssl` only hands out the leaf, so the handshake is done with pyOpenSSL, whose
`get_peer_cert_chain()` returns every certificate the server sent, in order. This connection
only reads certificates for an admin to inspect; nothing is sent over it.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import select
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from OpenSSL import SSL

from calendar_app.security.ews_url import EwsEndpoint

DEFAULT_TIMEOUT_SECONDS = 10.0


class CaptureError(Exception):
    """The chain could not be captured. `str()` is one sentence saying what happened and what to do."""


class UnknownHostError(CaptureError):
    pass


class ConnectionRefusedCaptureError(CaptureError):
    pass


class CaptureTimeoutError(CaptureError):
    pass


class NotTlsError(CaptureError):
    pass


class OutdatedTlsError(CaptureError):
    pass


@dataclass(frozen=True)
class CapturedChain:
    endpoint: EwsEndpoint
    certificates: tuple[x509.Certificate, ...]  # the server's certificate first, as sent
    tls_version: str
    cipher: str

    @property
    def leaf(self) -> x509.Certificate:
        return self.certificates[0]


def capture_chain(endpoint: EwsEndpoint, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> CapturedChain:
    deadline = time.monotonic() + timeout
    sock = _connect(endpoint, timeout)
    try:
        connection = SSL.Connection(_capture_context(), sock)
        if not _is_ip_address(endpoint.host):
            connection.set_tlsext_host_name(endpoint.host.encode("ascii"))  # SNI: DNS names only (RFC 6066)
        connection.set_connect_state()
        _handshake(connection, sock, endpoint, deadline, timeout)
        chain = connection.get_peer_cert_chain(as_cryptography=True)
        if not chain:
            raise NotTlsError(f"{endpoint.address} completed a TLS handshake without presenting a certificate; "
                              "check that the URL points at the Exchange server.")
        version = connection.get_protocol_version_name()
        cipher = connection.get_cipher_name() or "unknown"
        _close_quietly(connection)
        return CapturedChain(endpoint=endpoint, certificates=tuple(chain), tls_version=version, cipher=cipher)
    finally:
        sock.close()


def _capture_context() -> SSL.Context:
    context = SSL.Context(SSL.TLS_CLIENT_METHOD)
    context.set_min_proto_version(SSL.TLS1_2_VERSION)
    # Accept any chain: we are only reading it for the admin to inspect and decide on.
    context.set_verify(SSL.VERIFY_NONE)  # capture-only
    return context


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


_AddressInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple[Any, ...]]


def _resolve(endpoint: EwsEndpoint, timeout: float) -> Sequence[_AddressInfo]:
    """getaddrinfo cannot be interrupted, so it runs on a helper thread we stop waiting for."""
    outcome: list[Sequence[_AddressInfo] | socket.gaierror] = []

    def lookup() -> None:
        try:
            outcome.append(socket.getaddrinfo(endpoint.host, endpoint.port, type=socket.SOCK_STREAM))
        except socket.gaierror as error:
            outcome.append(error)

    worker = threading.Thread(target=lookup, name="capture-dns", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        raise CaptureTimeoutError(f"Looking up {endpoint.host!r} took longer than {timeout:g} s. Check your "
                                  "network/VPN and DNS.")
    result = outcome[0]
    if isinstance(result, socket.gaierror):
        raise UnknownHostError(f"Unknown host {endpoint.host!r}: the name does not resolve ({result.strerror}). "
                               "Check the spelling of the server name and your network/VPN.") from result
    return result


def _connect(endpoint: EwsEndpoint, timeout: float) -> socket.socket:
    infos = _resolve(endpoint, timeout)
    last_error: OSError | None = None
    for family, kind, proto, _name, address in infos:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except OSError as error:
            sock.close()
            last_error = error
            continue
        return sock
    if last_error is None:
        raise UnknownHostError(f"Unknown host {endpoint.host!r}: the name resolves to no address. Check the "
                               "server name.")
    if isinstance(last_error, TimeoutError):
        raise CaptureTimeoutError(f"No answer from {endpoint.address} within {timeout:g} s. Check the server "
                                  "name and port, and whether a firewall or VPN blocks it.") from last_error
    if last_error.errno == errno.ECONNREFUSED:
        raise ConnectionRefusedCaptureError(
            f"{endpoint.address} refused the connection: nothing listens on port {endpoint.port}. "
            "Check the port in the URL (EWS normally uses 443).") from last_error
    raise CaptureError(f"Could not connect to {endpoint.address}: {last_error.strerror or last_error}.") \
        from last_error


def _handshake(connection: SSL.Connection, sock: socket.socket, endpoint: EwsEndpoint,
               deadline: float, timeout: float) -> None:
    # The socket has a timeout, so it is non-blocking underneath: wait for it ourselves.
    while True:
        try:
            connection.do_handshake()
        except (SSL.WantReadError, SSL.WantWriteError) as want:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _handshake_timeout(endpoint, timeout) from want
            waiting_for_read = isinstance(want, SSL.WantReadError)
            readable, writable, _ = select.select([sock] if waiting_for_read else [],
                                                  [] if waiting_for_read else [sock], [], remaining)
            if not readable and not writable:
                raise _handshake_timeout(endpoint, timeout) from want
        except SSL.SysCallError as error:
            raise NotTlsError(f"{endpoint.address} closed the connection during the TLS handshake: it does not "
                              "seem to speak TLS (HTTPS) on this port. Check the port and the URL.") from error
        except SSL.Error as error:
            reason = _openssl_reason(error)
            if any(sign in reason for sign in ("alert protocol version", "unsupported protocol")):
                raise OutdatedTlsError(f"{endpoint.address} only offers TLS older than 1.2 ({reason}). The app "
                                       "requires TLS 1.2 or newer: ask the Exchange admin to enable it.") from error
            raise NotTlsError(f"TLS handshake with {endpoint.address} failed ({reason}): the port does not seem to "
                              "speak HTTPS. Check that the URL's port is the server's HTTPS port.") from error
        else:
            return


def _handshake_timeout(endpoint: EwsEndpoint, timeout: float) -> CaptureTimeoutError:
    return CaptureTimeoutError(f"{endpoint.address} accepted the connection but did not complete a TLS handshake "
                               f"within {timeout:g} s. Check that the port is the server's HTTPS port.")


def _openssl_reason(error: SSL.Error) -> str:
    details = error.args[0] if error.args else []
    if isinstance(details, list) and details:
        last = details[-1]
        if isinstance(last, tuple) and len(last) >= 3:
            return str(last[2])
    return str(error) or type(error).__name__


def _close_quietly(connection: SSL.Connection) -> None:
    with contextlib.suppress(SSL.Error):  # the server may already be gone; we have the chain
        connection.shutdown()
