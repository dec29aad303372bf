"""HTTPS front end shaped like IIS in front of EWS: HTTP/1.1 keep-alive, NTLM per connection, the EWS
endpoint at /EWS/Exchange.asmx, chunked streaming responses, and the injected faults."""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from calendar_app.sandbox import soap
from calendar_app.sandbox.dispatch import MAILBOX_FREE, operation_for
from calendar_app.sandbox.ntlm_auth import ConnectionAuthState
from calendar_app.sandbox.operation_context import OperationContext
from calendar_app.sandbox.time_zones import apply_time_zone_context

if TYPE_CHECKING:
    from calendar_app.sandbox.server import SandboxServer

log = logging.getLogger(__name__)

EWS_PATH = "/ews/exchange.asmx"
BUSY_MESSAGE = "The server cannot service this request right now. Try again later."
IIS_500_PAGE = (b"<html><head><title>Runtime Error</title></head><body><h1>Server Error in '/EWS' Application."
                b"</h1><h2><i>Runtime Error</i></h2></body></html>")
IIS_503_PAGE = (b"<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\"><HTML><HEAD><TITLE>Service Unavailable"
                b"</TITLE></HEAD><BODY><h2>Service Unavailable</h2><hr><p>HTTP Error 503. The service is "
                b"unavailable.</p></BODY></HTML>")
UNAUTHORIZED_PAGE = (b"<html><body><h1>401 - Unauthorized: Access is denied due to invalid credentials.</h1>"
                     b"</body></html>")

TrafficListener = Callable[[str, str, bytes], None]  # (direction "request"/"response", operation, bytes)


class SandboxHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        self._pending_bindings: dict[int, bytes] = {}
        self._bindings_lock = threading.Lock()
        self.open_connections: set[socket.socket] = set()
        super().__init__(address, EwsRequestHandler)

    def get_request(self) -> tuple[Any, Any]:
        raw, address = self.socket.accept()
        # Small answers go out at once: with Nagle's algorithm and the client's delayed ACK each would wait ~40 ms.
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        context, material = self.sandbox.current_tls()
        connection = context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
        with self._bindings_lock:
            self._pending_bindings[id(connection)] = material.tls_server_end_point()
            self.open_connections.add(connection)
        return connection, address

    def take_binding(self, connection: Any) -> bytes:
        with self._bindings_lock:
            return self._pending_bindings.pop(id(connection), b"")

    def forget(self, connection: Any) -> None:
        with self._bindings_lock:
            self.open_connections.discard(connection)
            self._pending_bindings.pop(id(connection), None)

    def close_all_connections(self) -> None:
        with self._bindings_lock:
            connections = list(self.open_connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


class EwsRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-IIS/10.0"
    sys_version = ""
    server: SandboxHttpServer

    def setup(self) -> None:
        self.request.settimeout(30)
        try:
            self.request.do_handshake()
        except (ssl.SSLError, OSError):
            self.server.forget(self.request)
            raise
        self.request.settimeout(None)
        self.auth_state = ConnectionAuthState(self.server.take_binding(self.request))
        super().setup()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.forget(self.request)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    # ---------------------------------------------------------------- HTTP verbs
    def do_GET(self) -> None:
        self._read_body()
        if not self._authenticated():
            return
        if self.path.split("?", 1)[0].lower() != EWS_PATH:
            self._send(404, b"Not Found", "text/plain")
            return
        self._send(200, b"<html><body>Exchange Web Services (calendar-app sandbox)</body></html>", "text/html")

    def do_POST(self) -> None:
        body = self._read_body()
        if not self._authenticated():
            return
        if self.path.split("?", 1)[0].lower() != EWS_PATH:
            self._send(404, b"Not Found", "text/plain")
            return
        sandbox = self.server.sandbox
        operation = "?"
        try:
            request = soap.parse_request(body)
            operation = request.operation
            sandbox.observe("request", operation, body)
            function, streaming = operation_for(operation, request.body)
            apply_time_zone_context(request.header, request.body)
            user = self._request_user
            assert user is not None
            address = sandbox.rights.mailbox_for(user, request.header)
            mailbox = sandbox.store.get(address) if address else None
            if mailbox is None and operation not in MAILBOX_FREE and address is not None:
                raise soap.SoapFault("ErrorNonExistentMailbox", "The SMTP address has no mailbox associated with it.")
            latency = sandbox.faults.latency_ms(operation)
            if latency:
                time.sleep(latency / 1000)
            if self._inject_before(operation):
                return
            context = OperationContext(user, mailbox, sandbox.store, sandbox.hub, request,
                                       sandbox.config.streaming_heartbeat_seconds)
            if streaming:
                with sandbox.store.lock:
                    parts = function(context)  # checks the request; the stream itself runs unlocked
                self._stream(operation, parts)
                return
            # One request at a time touches the mailboxes, so each is atomic, as a user sees Exchange.
            with sandbox.store.lock:
                result = function(context)
            response = soap.response_envelope(result)
            if sandbox.faults.take(operation, ("drop-after",)):
                self._drop()  # committed, but the client never hears so: an unknown outcome
                return
        except soap.SoapFault as fault:
            self._send_fault(operation, fault)
            return
        except soap.OperationError as error:
            self._send_fault(operation, soap.SoapFault(error.response_code, error.message))
            return
        except Exception as error:
            log.exception("sandbox operation %s failed", operation)
            sandbox.internal_errors.append(f"{operation}: {error!r}")
            self._send_fault(operation, soap.SoapFault("ErrorInternalServerError",
                                                       "An internal server error occurred. The operation failed."))
            return
        sandbox.observe("response", operation, response)
        self._send(200, response, "text/xml; charset=utf-8")

    # ---------------------------------------------------------------- pieces
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    _request_user: Any = None  # who this request is from (the connection's NTLM user, or Basic's)

    def _authenticated(self) -> bool:
        authenticator = self.server.sandbox.authenticator
        assert authenticator is not None
        outcome = authenticator.authenticate(self.auth_state, self.headers.get("Authorization"))
        if outcome.user is not None:
            self._request_user = outcome.user
            return True
        log.debug("401 for %s: %s", self.address_string(), outcome.reason)
        self.send_response(401)
        for name, value in outcome.headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(UNAUTHORIZED_PAGE)))
        self.end_headers()
        self.wfile.write(UNAUTHORIZED_PAGE)
        return False

    def _inject_before(self, operation: str) -> bool:
        faults = self.server.sandbox.faults
        fault = faults.take(operation, ("busy", "http500", "http503", "drop-before"))
        if fault is None:
            return False
        if fault.kind == "busy":
            self._send_fault(operation, soap.SoapFault("ErrorServerBusy", BUSY_MESSAGE,
                                                       message_xml={"BackOffMilliseconds": str(fault.value)}))
        elif fault.kind == "http500":
            self._send(500, IIS_500_PAGE, "text/html")
        elif fault.kind == "http503":
            retry_after = {"Retry-After": str(fault.value)} if fault.value else {}
            self._send(503, IIS_503_PAGE, "text/html", retry_after)
        else:
            self._drop()
        return True

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.request.shutdown(socket.SHUT_RDWR)

    def _send_fault(self, operation: str, fault: soap.SoapFault) -> None:
        payload = soap.fault_envelope(fault)
        self.server.sandbox.observe("response", operation, payload)
        self._send(500, payload, "text/xml; charset=utf-8")

    def _send(self, status: int, payload: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Powered-By", "ASP.NET")
        self.end_headers()
        self.wfile.write(payload)

    def _stream(self, operation: str, parts: Iterator[Any]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for part in parts:
                payload = soap.response_envelope(part)
                self.server.sandbox.observe("response", operation, payload)
                self.wfile.write(f"{len(payload):X}\r\n".encode() + payload + b"\r\n")
                self.wfile.flush()
                if self.server.sandbox.faults.take(operation, ("drop-after",)):
                    self._drop()  # the stream breaks while the client listens
                    return
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True  # the client went away; Exchange simply drops the stream
