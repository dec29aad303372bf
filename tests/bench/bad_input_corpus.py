"""Bad-input corpus: every bad input named in the security and wizard issues, plus malformed server
answers (invalid XML, junk, wrong types, an HTML page, a huge body, an empty answer), fed through the
CLI as an admin would type them, and the malformed answers also through `sync --once`, where a rep's
local edit must survive them.

    tests/run-with-keyring.sh .venv/bin/python -m tests.bench.bad_input_corpus [--verbose]

Each case checks: no traceback; the exit code (non-zero for a refusal; 0 where the issue says the
input is accepted and explained, e.g. capturing an expired certificate); one message that matches a
pattern specific to that input and none of the app's generic fallbacks; and, where the command could
write or lose something, that it did not. The servers are ours, on 127.0.0.1: a raw TLS server
serving each malformed answer or certificate (certificates made with `cryptography` here), a plain TCP
server that does not speak TLS, one that accepts and never answers, and the sandbox (wrong password,
impersonation denied, unknown mailbox). The app's profile lives in a temporary XDG home. Exit 0 when
every case passed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from calendar_app.sandbox.tls_material import load_or_create
from tests.security.pki import Issued, issue
from tests.support.exchange_sandbox import REP, REP_MAILBOX, SERVICE, running_sandbox
from tests.support.raw_tls_server import Served, raw_server

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
HTML_PAGE = (b"<!DOCTYPE html><html><head><title>Contoso Web Gateway - Sign in</title></head>"
             b"<body><h1>Please sign in to continue</h1></body></html>")

# label → (the answer, what the message must say)
MALFORMED_ANSWERS: dict[str, tuple[bytes, str]] = {
    "invalid XML": (b"<?xml version='1.0'?><s:Envelope><s:Body><unclosed>", r"answered with invalid XML \("),
    "not XML at all": (b"\x00\x01\x02 binary junk \xff\xfe" * 100, r"not XML \(\d+ bytes of binary data\)"),
    "the wrong answer in a valid envelope": (WRONG_TYPES.encode(),
                                        r"holds <GetFolderResponse> where EWS answers with <\w+Response>"),
    "an HTML sign-in page with 200": (HTML_PAGE, r"not an EWS SOAP response \(an HTML page titled "
                                                 r"'Contoso Web Gateway - Sign in'.*login portal"),
    "a huge body (64 MB of junk XML)": (b"<a>" + b"x" * (64 * 1024 * 1024) + b"</a>",
                                        r"larger than 32 MB .*it was refused"),
    "an empty body": (b"", r"sent an empty answer"),
    "a SOAP envelope with an empty body": ((SOAP_OK_HEAD + "</s:Body></s:Envelope>").encode(),
                                           r"answered with an empty SOAP envelope"),
}

# What the app says when it could not classify a failure: a case ending with one of these is not specific.
GENERIC_FALLBACKS = (
    "Exchange answered with an error. Check the URL and the account",
    "The connection to Exchange failed. Check that the URL ends in",
    "Unexpected error",
    "see the log",
    "Exchange reported an error.",
    "Exchange cannot be reached right now; the sync will try again.",
    "The connection to Exchange broke before it answered",
)


@dataclass
class Outcome:
    name: str
    exit_code: int
    message: str
    passed: bool
    why: str


def tls_context(chain_pem: bytes, key_pem: bytes, folder: Path, name: str) -> ssl.SSLContext:
    (folder / f"{name}.crt").write_bytes(chain_pem)
    (folder / f"{name}.key").write_bytes(key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / f"{name}.crt", folder / f"{name}.key")
    return context


class Corpus:
    def __init__(self, home: Path, verbose: bool) -> None:
        self.home = home
        self.verbose = verbose
        self.outcomes: list[Outcome] = []
        self.environment = {**os.environ, "XDG_CONFIG_HOME": str(home / "config"),
                            "XDG_DATA_HOME": str(home / "data"), "XDG_STATE_HOME": str(home / "state"),
                            "XDG_CACHE_HOME": str(home / "cache"), "QT_QPA_PLATFORM": "offscreen"}

    def cli(self, args: list[str], *, stdin: str = "", prefix: tuple[str, ...] = (),
            extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([*prefix, sys.executable, "-m", "calendar_app", *args], input=stdin.encode(),
                              capture_output=True, env={**self.environment, **(extra_env or {})}, timeout=120,
                              check=False)

    def run(self, name: str, args: list[str], *, expect: str, stdin: str = "", exit_codes: tuple[int, ...] = (1, 2),
            prefix: tuple[str, ...] = (), extra_env: dict[str, str] | None = None,
            nothing_wrong: Callable[[], str] | None = None) -> None:
        """`expect` is a regular expression the case's message must match. The message is the one line
        on stderr for a refusal; for `test-connection` the FAILED step with its advice; for `sync` and
        accepted inputs the output's last line / whole output."""
        try:
            done = self.cli(args, stdin=stdin, prefix=prefix, extra_env=extra_env)
            code, err, out = done.returncode, done.stderr.decode(errors="replace"), done.stdout.decode(errors="replace")
        except subprocess.TimeoutExpired:
            code, err, out = -1, "(no answer within 120 s)", ""
        problems = []
        err_lines = [line for line in err.splitlines() if line.strip() and "Warning" not in line]
        out_lines = out.splitlines()
        failed = [i for i, line in enumerate(out_lines) if " FAILED " in line]
        if err_lines:
            message = err_lines[0]
            if len(err_lines) != 1:
                problems.append(f"{len(err_lines)} lines on stderr")
        elif args[0] == "test-connection" and failed:
            at = failed[0]
            advice = out_lines[at + 1].strip() if at + 1 < len(out_lines) else ""
            message = " ".join(out_lines[at].split()) + (" " + advice if advice.startswith("→") else "")
            if not advice.startswith("→"):
                problems.append("no advice after the failed step")
            if len(failed) != 1:
                problems.append(f"{len(failed)} failed steps")
        elif args[0] == "sync" and out_lines:
            message = out_lines[-1]
        elif "Before trusting this server, note:" in out:  # a capture that worked: its warnings are the message
            notes = [line for line in out_lines if line.startswith("Note:")]
            message = " ".join([*notes, *out[out.index("Before trusting this server, note:"):].split()])
        else:
            message = " ".join(out.split())
        if code not in exit_codes:
            problems.append(f"exit code {code}, expected {' or '.join(map(str, exit_codes))}")
        if "Traceback" in err + out:
            problems.append("a traceback")
        if not re.search(expect, message, re.IGNORECASE | re.DOTALL):
            problems.append(f"the message does not match {expect!r}")
        generic = [g for g in GENERIC_FALLBACKS if g.lower() in message.lower()]
        if generic:
            problems.append(f"a generic fallback: {generic[0]!r}")
        if nothing_wrong is not None:
            harm = nothing_wrong()
            if harm:
                problems.append(harm)
        outcome = Outcome(name, code, message, not problems, "; ".join(problems))
        self.outcomes.append(outcome)
        mark = "ok  " if outcome.passed else "FAIL"
        width = 400 if self.verbose else 150
        print(f"{mark} {name:<62} exit {code}: {message[:width]}" + ("" if outcome.passed else
                                                                     f"  <- {outcome.why}"), flush=True)


def no_file(path: Path) -> Callable[[], str]:
    return lambda: f"{path.name} was written" if path.exists() else ""


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


@dataclass(frozen=True)
class BadCertificates:
    """Server certificates with one thing wrong each, all issued for 127.0.0.1 unless said otherwise."""

    expired: Issued
    not_yet_valid: Issued
    self_signed: Issued
    other_host: Issued  # names mail.contoso.test only
    renewed: Issued  # what the server presents after the admin captured `original`
    original: Issued


def make_bad_certificates() -> BadCertificates:
    now = datetime.now(UTC)
    root = issue("Contoso Corpus Root", ca=True)
    return BadCertificates(
        expired=issue("127.0.0.1", issuer=root, not_before=now - timedelta(days=400),
                      not_after=now - timedelta(days=30)),
        not_yet_valid=issue("127.0.0.1", issuer=root, not_before=now + timedelta(days=30),
                            not_after=now + timedelta(days=400)),
        self_signed=issue("127.0.0.1"),
        other_host=issue("mail.contoso.test", issuer=root, dns_names=("mail.contoso.test",), ip_addresses=()),
        renewed=issue("127.0.0.1"),
        original=issue("127.0.0.1"),
    )


def serve_certificate(issued: Issued, folder: Path, name: str) -> ssl.SSLContext:
    key = issued.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption())
    return tls_context(issued.pem, key, folder, name)


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
        bad = make_bad_certificates()
        closed = socket.create_server(("127.0.0.1", 0))
        refused_port = closed.getsockname()[1]
        closed.close()

        # ---- issue 3: capture
        corpus.run("cert fetch: not a URL", ["cert", "fetch", "not a url"], expect=r"Not a URL.*e\.g\. https://")
        corpus.run("cert fetch: http://", ["cert", "fetch", "http://127.0.0.1/EWS/Exchange.asmx"],
                   expect=r"plain http://.*unencrypted")
        unshare = shutil.which("unshare")
        if unshare:  # its own network namespace: the failed lookup sends no DNS query off this machine
            corpus.run("cert fetch: unknown host", ["cert", "fetch", "https://no-such-server.invalid/EWS/Exchange.asmx"],
                       prefix=(unshare, "--net"), expect=r"Unknown host 'no-such-server\.invalid'")
        else:
            print("skip cert fetch: unknown host (no unshare)")
        corpus.run("cert fetch: connection refused", ["cert", "fetch", f"https://127.0.0.1:{refused_port}/"],
                   expect=r"refused the connection.*port")
        with raw_server(None, Served(b"x")) as plain:
            corpus.run("cert fetch: a port that does not speak TLS", ["cert", "fetch", f"https://127.0.0.1:{plain}/"],
                       expect=r"does not seem to speak HTTPS")
        with raw_server(context, Served(None)) as hanging:
            corpus.run("cert fetch: a TLS server that hangs", ["cert", "fetch", "--timeout", "3",
                                                              f"https://127.0.0.1:{hanging}/"],
                       expect=r"did not complete a TLS handshake within 3 s")
        with raw_server(context, Served(b"")) as good:
            out = folder / "typo.cer"
            corpus.run("cert fetch: the documented typo https//", ["cert", "fetch", "--out", str(out),
                                                                   f"https//127.0.0.1:{good}/EWS/Exchange.asmx"],
                       exit_codes=(0,), expect=r"Corrected 'https//' to 'https://'",
                       nothing_wrong=lambda: "" if out.exists() else "the certificate was not saved")
        # capture still works for a bad certificate and says what is wrong with it
        for label, issued, says in (
                ("an expired certificate", bad.expired, r"- Expired: '127\.0\.0\.1' expired on \d{4}-"),
                ("a not-yet-valid certificate", bad.not_yet_valid, r"Not valid yet: '127\.0\.0\.1' starts on \d{4}-"),
                ("a self-signed certificate", bad.self_signed, r"Self-signed: '127\.0\.0\.1' vouches for itself only"),
                ("a certificate for another host", bad.other_host,
                 r"note: - The certificate does not match the host name: .*mail\.contoso\.test")):
            server_context = serve_certificate(issued, folder, label.replace(" ", "-"))
            with raw_server(server_context, Served(b"")) as port:
                corpus.run(f"cert fetch: {label} (captured, and said so)",
                           ["cert", "fetch", f"https://127.0.0.1:{port}/EWS/Exchange.asmx"], exit_codes=(0,),
                           expect=says)

        # ---- issue 3: certificate files
        for label, says in (("empty", r"the file is empty"), ("junk", r"not a certificate: neither"),
                            ("private key", r"holds a PRIVATE KEY, not a certificate"),
                            ("huge", r"larger than the 1 MB")):
            corpus.run(f"cert show: {label} file", ["cert", "show", str(files[label])], expect=says)
        corpus.run("cert show: missing file", ["cert", "show", str(folder / "nope.cer")], expect=r"no such file")

        # ---- issue 3: keystores
        refused_out = folder / "k.p12"
        corpus.run("keystore create: a private key as the certificate",
                   ["keystore", "create", "--cert", str(files["private key"]), "--alias", "x", "--out",
                    str(refused_out), "--password-stdin", "--noprompt"], stdin="changeit\n",
                   expect=r"PRIVATE KEY, not a certificate", nothing_wrong=no_file(refused_out))
        good_keystore = folder / "good.p12"
        created = corpus.cli(["keystore", "create", "--cert", str(files["ca"]), "--alias", "exchange", "--out",
                              str(good_keystore), "--password-stdin", "--noprompt"], stdin="changeit\n")
        if created.returncode != 0:
            print("could not make a good keystore: " + created.stderr.decode()[-300:])
            return 1
        good = good_keystore.read_bytes()
        files["truncated keystore"].write_bytes(good[: len(good) // 2])
        corpus.run("keystore show: wrong password", ["keystore", "show", "--password-stdin", str(good_keystore)],
                   stdin="wrong-password\n", expect=r"Wrong keystore password")
        corpus.run("keystore show: truncated", ["keystore", "show", "--password-stdin",
                                                str(files["truncated keystore"])], stdin="changeit\n",
                   expect=r"truncated: \d+ of \d+ bytes")
        corpus.run("keystore show: unknown type", ["keystore", "show", "--password-stdin",
                                                   str(files["unknown keystore"])], stdin="changeit\n",
                   expect=r"Unknown keystore type")
        corpus.run("keystore show: empty file", ["keystore", "show", "--password-stdin", str(files["empty"])],
                   stdin="changeit\n", expect=r"keystore file is empty")
        key_only = make_private_key_keystore(folder, bad.original)
        if key_only is not None:
            corpus.run("keystore show: a private-key entry (listed, not used for trust)",
                       ["keystore", "show", "--password-stdin", str(key_only)], stdin="changeit\n", exit_codes=(0,),
                       expect=r"private.?key.*(not used|no trusted)|(not used|no trusted).*private.?key")
            keystore_dir = folder / "home" / "data"
            corpus.run("keystore upload: zero trusted entries (only a private key)",
                       ["keystore", "upload", "--password-stdin", str(key_only)], stdin="changeit\n",
                       expect=r"no trusted certificate|zero trusted|not a single trusted",
                       nothing_wrong=lambda: "a keystore was installed" if any(
                           p.suffix in (".p12", ".jks") for p in keystore_dir.rglob("*")) else "")
        corpus.run("keystore upload: wrong password", ["keystore", "upload", "--password-stdin", str(good_keystore)],
                   stdin="wrong-password\n", expect=r"Wrong keystore password",
                   nothing_wrong=lambda: "a keystore was installed" if any(
                       p.suffix in (".p12", ".jks") for p in (folder / "home" / "data").rglob("*")) else "")

        # ---- issue 6: the set-up's fields, refused before any password is asked for or anything saved
        def nothing_saved() -> str:
            saved = [p.name for p in (folder / "home").rglob("*") if p.is_file() and p.suffix in (".json", ".p12",
                                                                                               ".jks", ".toml")]
            return f"saved {saved}" if saved else ""

        setup = ["configure", "--ews-url", "https://127.0.0.1:1/EWS/Exchange.asmx", "--keystore", str(good_keystore),
                 "--no-check"]
        passwords = {"CALENDAR_APP_PASSWORD": REP.password, "CALENDAR_APP_KEYSTORE_PASSWORD": "changeit"}
        corpus.run("configure: a user name that is neither DOMAIN\\user nor a UPN",
                   [*setup, "--mailbox", REP_MAILBOX, "--user", "rep"], extra_env=passwords,
                   expect=r"--user 'rep': enter the user name as DOMAIN\\user or user@domain",
                   nothing_wrong=nothing_saved)
        corpus.run("configure: a user name with a space", [*setup, "--mailbox", REP_MAILBOX, "--user", "CONTOSO\\r ep"],
                   extra_env=passwords, expect=r"contains a space", nothing_wrong=nothing_saved)
        corpus.run("configure: a domain without a user name", [*setup, "--mailbox", REP_MAILBOX, "--user", "CONTOSO\\"],
                   extra_env=passwords, expect=r"both the domain and the user name are needed",
                   nothing_wrong=nothing_saved)
        corpus.run("configure: a mailbox that is not an SMTP address",
                   [*setup, "--mailbox", "rep at contoso", "--user", REP.account], extra_env=passwords,
                   expect=r"'rep at contoso' is not an SMTP address", nothing_wrong=nothing_saved)
        corpus.run("configure: the keystore's password is wrong",
                   [*setup, "--mailbox", REP_MAILBOX, "--user", REP.account],
                   extra_env={**passwords, "CALENDAR_APP_KEYSTORE_PASSWORD": "wrong-password"},
                   expect=r"Wrong keystore password", nothing_wrong=nothing_saved)
        corpus.run("test-connection: a mailbox that is not an SMTP address",
                   ["test-connection", "--url", "https://127.0.0.1:1/EWS/Exchange.asmx", "--mailbox", "rep at contoso",
                    "--user", REP.account, "--certificate", str(files["ca"]), "--password-stdin"],
                   stdin=REP.password + "\n", expect=r"'rep at contoso' is not an SMTP address")
        corpus.run("test-connection: a user name that is not DOMAIN\\user or a UPN",
                   ["test-connection", "--url", "https://127.0.0.1:1/EWS/Exchange.asmx", "--mailbox", REP_MAILBOX,
                    "--user", "rep@", "--certificate", str(files["ca"]), "--password-stdin"],
                   stdin=REP.password + "\n", expect=r"'rep@' is not a UPN")

        # ---- issues 3 and 6: the server's certificate, through the connection test
        def test_connection(port: int, certificate: Path, user: str = REP.account, password: str = REP.password,
                            mailbox: str = REP_MAILBOX) -> list[str]:
            return ["test-connection", "--url", f"https://127.0.0.1:{port}/EWS/Exchange.asmx", "--mailbox", mailbox,
                    "--certificate", str(certificate), "--password-stdin", "--user", user, "--own-account"]

        for label, issued, says in (
                ("the pinned certificate has expired", bad.expired,
                 r"expired on \d{4}-\d\d-\d\d.*renew the server's certificate"),
                ("the pinned certificate is not valid yet", bad.not_yet_valid,
                 r"not valid until .*date and time"),
                ("the pinned certificate names another host", bad.other_host,
                 r"issued for mail\.contoso\.test, not for 127\.0\.0\.1"),
                ("a self-signed certificate that is not the pinned one", bad.self_signed,
                 r"not the one in the keystore.*SHA-256")):
            pinned = folder / f"pinned-{label.replace(' ', '-')}.pem"
            pinned.write_bytes(files["ca"].read_bytes() if issued is bad.self_signed else issued.pem)
            server_context = serve_certificate(issued, folder, f"served-{label.replace(' ', '-')}")
            with raw_server(server_context, Served(b"")) as port:
                corpus.run(f"test-connection: {label}", test_connection(port, pinned), stdin=REP.password + "\n",
                           expect=says)
        # The admin captured the certificate; later the server presents another one on the same address.
        captured = folder / "captured.cer"
        with raw_server(serve_certificate(bad.original, folder, "original"), Served(b"")) as port:
            corpus.cli(["cert", "fetch", "--out", str(captured), f"https://127.0.0.1:{port}/EWS/Exchange.asmx"])
            same_port = port
        with raw_server(serve_certificate(bad.renewed, folder, "renewed"), Served(b""), same_port):
            corpus.run("test-connection: the certificate changed after capture",
                       test_connection(same_port, captured), stdin=REP.password + "\n",
                       expect=r"presents SHA-256 ([0-9A-F:]{95}).*keystore trusts SHA-256 (?!\1)[0-9A-F:]{95}")

        # ---- issue 6 (wizard / test-connection) against the sandbox
        with running_sandbox(folder / "sandbox") as sandbox:
            server = sandbox.server
            ca = folder / "sandbox-ca.pem"
            ca.write_bytes(server.ca_pem)
            base = ["test-connection", "--url", server.url, "--certificate", str(ca), "--password-stdin"]
            corpus.run("test-connection: wrong password", [*base, "--mailbox", REP_MAILBOX, "--user", SERVICE.account],
                       stdin="Wrong-Pass-9\n", expect=r"401 — the password or user name is wrong")
            corpus.run("test-connection: unknown mailbox", [*base, "--mailbox", "nobody@contoso.com", "--user",
                                                            SERVICE.account], stdin=SERVICE.password + "\n",
                       expect=r"no mailbox nobody@contoso\.com")
            server.set_impersonation(SERVICE.account, REP_MAILBOX, allowed=False)
            corpus.run("test-connection: impersonation denied", [*base, "--mailbox", REP_MAILBOX, "--user",
                                                                 SERVICE.account], stdin=SERVICE.password + "\n",
                       expect=r"ApplicationImpersonation")
            wrong_types_in_a_pulled_item(corpus, folder, server)
            corpus.run("test-connection: another server's certificate",
                       ["test-connection", "--url", server.url, "--mailbox", REP_MAILBOX, "--certificate",
                        str(files["ca"]), "--password-stdin", "--user", REP.account], stdin=REP.password + "\n",
                       expect=r"not the one in the keystore")
        corpus.run("test-connection: unreachable server",
                   ["test-connection", "--url", f"https://127.0.0.1:{refused_port}/EWS/Exchange.asmx", "--mailbox",
                    REP_MAILBOX, "--certificate", str(files["ca"]), "--password-stdin", "--user", REP.account],
                   stdin=REP.password + "\n", expect=r"refused the connection.*port")
        if unshare:
            corpus.run("test-connection: unknown host",
                       ["test-connection", "--url", "https://no-such-server.invalid/EWS/Exchange.asmx", "--mailbox",
                        REP_MAILBOX, "--certificate", str(files["ca"]), "--password-stdin", "--user", REP.account],
                       stdin=REP.password + "\n", prefix=(unshare, "--net"), expect=r"does not resolve")

        # ---- malformed server answers: the connection test, then the sync with a local edit waiting
        served = Served(b"")
        with raw_server(context, served) as port:
            for label, (answer, says) in MALFORMED_ANSWERS.items():
                served.answer = answer
                corpus.run(f"test-connection: server answers {label}", test_connection(port, files["ca"]),
                           stdin=REP.password + "\n", expect=says)
            malformed_sync_cases(corpus, port, served, good_keystore)

        # The sync's pinned connection when the server's certificate changed (the same address).
        with raw_server(serve_certificate(bad.renewed, folder, "renewed-again"), Served(b""), port):
            corpus.run("sync --once: the server's certificate changed", ["sync", "--once"],
                       expect=r"not the trusted one.*SHA-256 [0-9A-F:]{95}.*keystore trusts SHA-256 [0-9A-F:]{95}",
                       nothing_wrong=lambda: local_edit_kept(corpus))
        shutil.rmtree(folder / "home", ignore_errors=True)
    passed = sum(1 for o in corpus.outcomes if o.passed)
    print(f"bad-input corpus: {len(corpus.outcomes)} cases, {passed} with a clear, specific message and no "
          f"traceback, {len(corpus.outcomes) - passed} not")
    return 0 if passed == len(corpus.outcomes) else 1


KEPT_SUBJECT = "Customer visit saved while Exchange misbehaves"


def malformed_sync_cases(corpus: Corpus, port: int, served: Served, keystore: Path) -> None:
    """Set the app up against the raw server (its keystore trusts the server's CA), save one local
    appointment, then run `sync --once` against each malformed answer: every run must end with the
    specific message, and the appointment must still be there and still waiting to be sent."""
    environment = {"CALENDAR_APP_PASSWORD": REP.password, "CALENDAR_APP_KEYSTORE_PASSWORD": "changeit"}
    configured = corpus.cli(["configure", "--ews-url", f"https://127.0.0.1:{port}/EWS/Exchange.asmx", "--mailbox",
                             REP_MAILBOX, "--user", REP.account, "--keystore", str(keystore), "--sign-in",
                             "own-account", "--enable", "--no-check"], extra_env=environment)
    added = corpus.cli(["appointments", "add", "--subject", KEPT_SUBJECT, "--start", "2027-03-04T09:00",
                        "--end", "2027-03-04T10:00", "--tz", "Europe/Berlin"])
    if configured.returncode != 0 or added.returncode != 0:
        print("could not set up the sync cases: " + (configured.stderr + added.stderr).decode()[-400:])
        corpus.outcomes.append(Outcome("sync set-up", configured.returncode, "", False, "set-up failed"))
        return
    for label, (answer, says) in MALFORMED_ANSWERS.items():
        served.answer = answer
        corpus.run(f"sync --once: server answers {label}", ["sync", "--once"], expect=says,
                   nothing_wrong=lambda: local_edit_kept(corpus))


WRONG_TYPES_ITEM = ('<t:CalendarItem xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">'
                    "<t:Subject>Quarterly review from Outlook</t:Subject><t:Start>next tuesday</t:Start>"
                    "<t:End>2027-03-04T10:00:00Z</t:End><t:IsAllDayEvent>maybe</t:IsAllDayEvent></t:CalendarItem>")


def wrong_types_in_a_pulled_item(corpus: Corpus, folder: Path, server: Any) -> None:
    """Another client's item whose start is not a date-time reaches a pull (exchangelib reads such a
    value as None): the pull must skip that one item with a logged reason, sync the rest, and leave
    the local appointment alone. Own XDG home, so the raw-server cases below start clean."""
    own = Corpus(folder / "home-sandbox", corpus.verbose)
    own.outcomes = corpus.outcomes
    keystore = folder / "sandbox.p12"
    (folder / "sandbox-ca-for-keystore.pem").write_bytes(server.ca_pem)
    own.cli(["keystore", "create", "--cert", str(folder / "sandbox-ca-for-keystore.pem"), "--alias", "sandbox",
             "--out", str(keystore), "--password-stdin", "--noprompt"], stdin="changeit\n")
    environment = {"CALENDAR_APP_PASSWORD": REP.password, "CALENDAR_APP_KEYSTORE_PASSWORD": "changeit"}
    configured = own.cli(["configure", "--ews-url", server.url, "--mailbox", REP_MAILBOX, "--user", REP.account,
                          "--keystore", str(keystore), "--sign-in", "own-account", "--enable"], extra_env=environment)
    added = own.cli(["appointments", "add", "--subject", KEPT_SUBJECT, "--start", "2027-03-04T09:00",
                     "--end", "2027-03-04T10:00", "--tz", "Europe/Berlin"])
    first = own.cli(["sync", "--once"])
    if configured.returncode != 0 or added.returncode != 0 or first.returncode != 0:
        print("could not set up the wrong-types case: " + (configured.stderr + added.stderr + first.stdout
                                                           + first.stderr).decode()[-400:])
        own.outcomes.append(Outcome("sync --once: wrong types set-up", first.returncode, "", False, "set-up failed"))
        return
    # Stored valid (the sandbox checks what it is given), then its start is made unreadable in place:
    # the sandbox serves stored text as it is, as a broken server or a rewriting gateway would.
    bad_id = server.add_calendar_item(REP_MAILBOX, WRONG_TYPES_ITEM.replace("next tuesday", "2027-03-04T09:00:00Z"))
    mailbox = server.mailbox(REP_MAILBOX)
    with mailbox.lock:
        stored = mailbox.find_item(bad_id)
        stored.elements["Start"].text = "next tuesday"
        stored.changed_outside_replace()
    server.add_calendar_item(REP_MAILBOX, WRONG_TYPES_ITEM.replace("Quarterly review from Outlook", "Lunch")
                             .replace("next tuesday", "2027-03-05T11:00:00Z").replace("maybe", "false"))

    def logged_and_kept() -> str:
        logs = "".join(p.read_text(errors="replace") for p in (folder / "home-sandbox").rglob("*.log"))
        if not re.search(r"pull skipped item \S+: Exchange sent the appointment 'Quarterly review from Outlook' "
                         r"with values this app cannot read \(it has no readable start time\)", logs):
            return "no log line naming the unreadable item and why it was skipped"
        listed = json.dumps(json.loads(own.cli(["appointments", "list", "--json"]).stdout or b"[]"))
        if KEPT_SUBJECT not in listed or "Lunch" not in listed:
            return "the local appointment or the readable new item is missing"
        return ""

    own.run("sync --once: a pulled item's start is not a date-time (wrong types)", ["sync", "--once"],
            exit_codes=(0,), expect=r"^  note: Exchange sent the appointment 'Quarterly review from Outlook' "
                                    r"with values this app cannot read",
            nothing_wrong=logged_and_kept)


def local_edit_kept(corpus: Corpus) -> str:
    listed = corpus.cli(["appointments", "list", "--json"])
    status = corpus.cli(["status", "--json"])
    try:
        appointments = json.loads(listed.stdout)
        state = json.loads(status.stdout)
    except ValueError:
        return "appointments list / status gave no JSON"
    if not any(KEPT_SUBJECT in json.dumps(a) for a in appointments):
        return "the local appointment is gone"
    if not re.search(r'"pending\w*": [1-9]', json.dumps(state)):
        return f"the local appointment is no longer pending: {json.dumps(state)[:200]}"
    return ""


def make_private_key_keystore(folder: Path, issued: Issued) -> Path | None:
    """A PKCS#12 holding one private-key entry and no trusted certificate, made by real `openssl`."""
    openssl = shutil.which("openssl")
    if openssl is None:
        print("skip the private-key keystore cases (no openssl)")
        return None
    (folder / "entry.crt").write_bytes(issued.pem)
    (folder / "entry.key").write_bytes(issued.key_pem)
    out = folder / "key-only.p12"
    subprocess.run([openssl, "pkcs12", "-export", "-in", str(folder / "entry.crt"), "-inkey",
                    str(folder / "entry.key"), "-name", "client", "-out", str(out), "-passout", "pass:changeit"],
                   check=True, capture_output=True)
    return out


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
