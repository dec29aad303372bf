"""A raw HTTP(S) server on 127.0.0.1 that answers every request with HTTP 200 and whatever body the
test sets: what a misbehaving server, proxy or login portal sends in place of EWS. Also a plain TCP
server that does not speak TLS, and one that accepts and never answers."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Served:
    """What a raw server sends; swapped between cases while the server keeps its port."""

    answer: bytes | None
    chunked: bool = False  # send the body with Transfer-Encoding: chunked, announcing no length
    hits: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def raw_server(tls: ssl.SSLContext | None, served: Served, port: int = 0) -> Iterator[int]:
    """A one-job server on 127.0.0.1: every request gets HTTP 200 and `served.answer`; with None,
    connections are accepted and never answered. Without `tls` it speaks plain TCP (an SSH banner)."""
    listener = socket.create_server(("127.0.0.1", port))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve(connection: socket.socket) -> None:
        try:
            if served.answer is None:
                stop.wait(60)
                return
            if tls is None:
                connection.sendall(b"SSH-2.0-OpenSSH_9.2 not TLS\r\n")
                return
            with tls.wrap_socket(connection, server_side=True) as secure:
                secure.settimeout(20)
                while not stop.is_set():
                    request = b""
                    while b"\r\n\r\n" not in request:
                        chunk = secure.recv(65536)
                        if not chunk:
                            return
                        request += chunk
                    head, _, rest = request.partition(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n"):
                        if line.lower().startswith(b"content-length:"):
                            length = int(line.split(b":")[1])
                    while len(rest) < length:
                        rest += secure.recv(65536)
                    with served.lock:
                        served.hits += 1
                    answer = served.answer or b""
                    head_lines = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\n"
                    if not served.chunked:
                        secure.sendall(head_lines + f"Content-Length: {len(answer)}\r\n\r\n".encode() + answer)
                        continue
                    secure.sendall(head_lines + b"Transfer-Encoding: chunked\r\n\r\n")
                    for at in range(0, len(answer), 65536):
                        piece = answer[at:at + 65536]
                        secure.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    secure.sendall(b"0\r\n\r\n")
        except (OSError, ssl.SSLError):
            return
        finally:
            connection.close()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        listener.close()
        thread.join(5)
