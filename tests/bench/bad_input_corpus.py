"""Bad-input corpus: every bad input named in the security and wizard issues, plus malformed server
answers (invalid XML, wrong types, a huge body, a server that hangs), fed through the CLI as an admin
would type them. Each must end with a non-zero exit, a clear one-line message and no traceback.

    tests/run-with-keyring.sh .venv/bin/python -m tests.bench.bad_input_corpus [--verbose]

The servers are ours, on 127.0.0.1: a raw TLS server serving each malformed answer, a plain TCP
server that does not speak TLS, one that accepts and never answers, and the sandbox (wrong password,
impersonation denied). The app's profile lives in a temporary XDG home. Exit 0 when every case passed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from calendar_app.sandbox.tls_material import load_or_create
from tests.support.exchange_sandbox import REP, REP_MAILBOX, SERVICE, running_sandbox

SOAP_OK_HEAD = ('<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
                'xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" '
                'xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Header>'
                '<t:ServerVersionInfo MajorVersion="15" MinorVersion="1" MajorBuildNumber="2507" MinorBuildNumber="6" '
                'Version="V2017_07_11"/></s:Header><s:Body>')
WRONG_TYPES = (SOAP_OK_HEAD + '<m:GetFolderResponse><m:ResponseMessages><m:GetFolderResponseMessage '
               'ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Folders><t:CalendarFolder>'
               '<t:FolderId Id="x" ChangeKey="y"/><t:DisplayName>Calendar</t:DisplayName>'
               '<t:TotalCount>many</t:TotalCount><t:ChildFolderCount>-x</t:ChildFolderCount>'
               '</t:CalendarFolder></m:Folders></m:GetFolderResponseMessage></m:ResponseMessages>'
               '</m:GetFolderResponse></s:Body></s:Envelope>')
MALFORMED_ANSWERS: dict[str, bytes] = {
    "invalid XML": b"<?xml version='1.0'?><s:Envelope><s:Body><unclosed>",
    "not XML at all": b"\x00\x01\x02 binary junk \xff\xfe" * 100,
    "wrong types in a valid envelope": WRONG_TYPES.encode(),
    "an HTML error page with 200": b"<html><body><h1>Welcome to nginx!</h1></body></html>",
    "a huge body (64 MB of junk XML)": b"<a>" + b"x" * (64 * 1024 * 1024) + b"</a>",
    "a SOAP envelope with an empty body": (SOAP_OK_HEAD + "</s:Body></s:Envelope>").encode(),
}


@dataclass
class Outcome:
    name: str
    exit_code: int
    stderr: str
    passed: bool
    why: str


@contextmanager
def raw_server(tls: ssl.SSLContext | None, answer: bytes | None) -> Iterator[int]:
    """A one-job server on 127.0.0.1: with `answer`, every request gets HTTP 200 and that body; with
    None, connections are accepted and never answered. Without `tls` it speaks plain TCP."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve(connection: socket.socket) -> None:
        try:
            if answer is None:
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
                    secure.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\n"
                                   + f"Content-Length: {len(answer)}\r\n\r\n".encode() + answer)
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
            held.append(connection)
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        listener.close()
        thread.join(5)


class Corpus:
    def __init__(self, home: Path, verbose: bool) -> None:
        self.home = home
        self.verbose = verbose
        self.outcomes: list[Outcome] = []
        self.environment = {**os.environ, "XDG_CONFIG_HOME": str(home / "config"),
                            "XDG_DATA_HOME": str(home / "data"), "XDG_STATE_HOME": str(home / "state"),
                            "XDG_CACHE_HOME": str(home / "cache"), "QT_QPA_PLATFORM": "offscreen"}

    def run(self, name: str, args: list[str], *, stdin: str = "", expect: str = "") -> None:
        """A CLI error is one line on stderr; `test-connection` instead prints its steps on stdout,
        where the clear message is the one FAILED step and its advice (the line after it)."""
        out = ""
        try:
            done = subprocess.run([sys.executable, "-m", "calendar_app", *args], input=stdin.encode(),
                                  capture_output=True, env=self.environment, timeout=120)
            code, err = done.returncode, done.stderr.decode(errors="replace")
            out = done.stdout.decode(errors="replace")
        except subprocess.TimeoutExpired:
            code, err = -1, "(no answer within 120 s)"
        lines = [line for line in err.splitlines() if line.strip() and "Warning" not in line]
        stdout_lines = out.splitlines()
        failed = [i for i, line in enumerate(stdout_lines) if " FAILED " in line]
        if not lines and len(failed) == 1 and args[0] == "test-connection":
            at = failed[0]
            advice = stdout_lines[at + 1].strip() if at + 1 < len(stdout_lines) else ""
            lines = [" ".join(stdout_lines[at].split()) + (" " + advice if advice.startswith("→") else "")]
            if not advice.startswith("→"):
                lines.append("(no advice after the failed step)")
        err += out
        problems = []
        if code in (0, -1):
            problems.append(f"exit code {code}")
        if "Traceback" in err:
            problems.append("a traceback")
        if len(lines) != 1:
            problems.append(f"{len(lines)} lines on stderr")
        if expect and expect.lower() not in err.lower():
            problems.append(f"no mention of {expect!r}")
        outcome = Outcome(name, code, lines[0] if len(lines) == 1 else err.strip()[:300], not problems,
                          ", ".join(problems))
        self.outcomes.append(outcome)
        mark = "ok  " if outcome.passed else "FAIL"
        print(f"{mark} {name:<58} exit {code}: {outcome.stderr[:150]}" + ("" if outcome.passed else
                                                                          f"  <- {outcome.why}"), flush=True)


def build_files(folder: Path, ca_pem: bytes) -> dict[str, Path]:
    files = {"empty": folder / "empty.cer", "junk": folder / "junk.cer", "private key": folder / "key.pem",
             "huge": folder / "huge.cer", "ca": folder / "ca.pem", "truncated keystore": folder / "trunc.p12",
             "unknown keystore": folder / "unknown.ks"}
    files["empty"].write_bytes(b"")
    files["junk"].write_bytes(os.urandom(4096))
    files["private key"].write_text("-----BEGIN PRIVATE KEY-----\nMIIBVAIBADANBgkqhkiG9w0BAQEFAASCAT4wggE6AgEAAkEA\n"
                                    "-----END PRIVATE KEY-----\n")
    files["huge"].write_bytes(b"-----BEGIN CERTIFICATE-----\n" + b"A" * (2 * 1024 * 1024))
    files["ca"].write_bytes(ca_pem)
    files["unknown keystore"].write_bytes(b"\x00\x00\x00\x01" + os.urandom(512))
    return files


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        corpus = Corpus(folder / "home", args.verbose)
        tls_material = load_or_create(folder / "tls", "127.0.0.1")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls_material.chain_file, tls_material.key_file)
        files = build_files(folder, tls_material.ca_pem)

        # ---- issue 3: certificates and keystores
        corpus.run("cert fetch: not a URL", ["cert", "fetch", "not a url"])
        corpus.run("cert fetch: http://", ["cert", "fetch", "http://127.0.0.1/EWS/Exchange.asmx"])
        closed = socket.create_server(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        closed.close()
        corpus.run("cert fetch: connection refused", ["cert", "fetch", f"https://127.0.0.1:{port}/"])
        with raw_server(None, b"x") as plain:
            corpus.run("cert fetch: a port that does not speak TLS", ["cert", "fetch", f"https://127.0.0.1:{plain}/"])
        with raw_server(context, None) as hanging:
            corpus.run("cert fetch: a TLS server that hangs", ["cert", "fetch", "--timeout", "3",
                                                              f"https://127.0.0.1:{hanging}/"])
        for label in ("empty", "junk", "private key", "huge"):
            corpus.run(f"cert show: {label} file", ["cert", "show", str(files[label])])
        corpus.run("cert show: missing file", ["cert", "show", str(folder / "nope.cer")])
        corpus.run("keystore create: a private key as the certificate",
                   ["keystore", "create", "--cert", str(files["private key"]), "--alias", "x", "--out",
                    str(folder / "k.p12"), "--password-stdin", "--noprompt"], stdin="changeit\n")
        created = subprocess.run([sys.executable, "-m", "calendar_app", "keystore", "create", "--cert",
                                  str(files["ca"]), "--alias", "exchange", "--out", str(folder / "good.p12"),
                                  "--password-stdin", "--noprompt"], input=b"changeit\n", capture_output=True,
                                 env=corpus.environment, check=False)
        if created.returncode == 0:
            good = (folder / "good.p12").read_bytes()
            files["truncated keystore"].write_bytes(good[: len(good) // 2])
            corpus.run("keystore show: wrong password", ["keystore", "show", "--password-stdin",
                                                         str(folder / "good.p12")], stdin="wrong-password\n")
            corpus.run("keystore show: truncated", ["keystore", "show", "--password-stdin",
                                                    str(files["truncated keystore"])], stdin="changeit\n")
        else:
            print("could not make a good keystore for the keystore cases: " + created.stderr.decode()[-300:])
        corpus.run("keystore show: unknown type", ["keystore", "show", "--password-stdin",
                                                   str(files["unknown keystore"])], stdin="changeit\n")
        corpus.run("keystore show: empty file", ["keystore", "show", "--password-stdin", str(files["empty"])],
                   stdin="changeit\n")

        # ---- issue 6 (wizard / test-connection) against the sandbox
        with running_sandbox(folder / "sandbox") as sandbox:
            server = sandbox.server
            ca = folder / "sandbox-ca.pem"
            ca.write_bytes(server.ca_pem)
            base = ["test-connection", "--url", server.url, "--mailbox", REP_MAILBOX, "--certificate", str(ca),
                    "--password-stdin"]
            corpus.run("test-connection: wrong password", [*base, "--user", SERVICE.account],
                       stdin="Wrong-Pass-9\n")
            server.set_impersonation(SERVICE.account, REP_MAILBOX, allowed=False)
            corpus.run("test-connection: impersonation denied", [*base, "--user", SERVICE.account],
                       stdin=SERVICE.password + "\n")
            corpus.run("test-connection: wrong host certificate (another CA)",
                       ["test-connection", "--url", server.url, "--mailbox", REP_MAILBOX, "--certificate",
                        str(files["ca"]), "--password-stdin", "--user", REP.account], stdin=REP.password + "\n")
        corpus.run("test-connection: unreachable server",
                   ["test-connection", "--url", f"https://127.0.0.1:{port}/EWS/Exchange.asmx", "--mailbox",
                    REP_MAILBOX, "--certificate", str(files["ca"]), "--password-stdin", "--user", REP.account],
                   stdin=REP.password + "\n")

        # ---- malformed server answers, through the same command
        for label, answer in MALFORMED_ANSWERS.items():
            with raw_server(context, answer) as malformed:
                corpus.run(f"server answers {label}",
                           ["test-connection", "--url", f"https://127.0.0.1:{malformed}/EWS/Exchange.asmx",
                            "--mailbox", REP_MAILBOX, "--certificate", str(files["ca"]), "--password-stdin",
                            "--user", REP.account], stdin=REP.password + "\n")
        shutil.rmtree(folder / "home", ignore_errors=True)
    passed = sum(1 for o in corpus.outcomes if o.passed)
    print(f"bad-input corpus: {len(corpus.outcomes)} cases, {passed} with a clear one-line message and no "
          f"traceback, {len(corpus.outcomes) - passed} not")
    return 0 if passed == len(corpus.outcomes) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
