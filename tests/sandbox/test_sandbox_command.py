"""`calendar-app sandbox`: prints URL, fingerprint and credentials, serves until SIGTERM, keeps its state."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from requests_ntlm import HttpNtlmAuth

from calendar_app.cli import main
from calendar_app.sandbox import SandboxConfig, SandboxServer, SandboxUser
from tests.sandbox.schema_check import SchemaChecker

CREATE = (
    '<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" '
    'xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Header>'
    '<t:RequestServerVersion Version="Exchange2016"/></s:Header><s:Body>'
    '<m:CreateItem SendMeetingInvitations="SendToNone"><m:Items><t:CalendarItem><t:Subject>Kept across restarts'
    "</t:Subject><t:Start>2027-06-01T08:00:00Z</t:Start><t:End>2027-06-01T09:00:00Z</t:End></t:CalendarItem>"
    "</m:Items></m:CreateItem></s:Body></s:Envelope>"
)


def _read_banner(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("Press Ctrl+C"):
            return "".join(lines)
    raise AssertionError(f"the sandbox ended early: {''.join(lines)}")


def _presented_fingerprint(url: str, ca_file: Path) -> str:
    host, port = re.match(r"https://([^:/]+):(\d+)/", url).groups()  # type: ignore[union-attr]
    context = ssl.create_default_context(cafile=str(ca_file))
    with socket.create_connection((host, int(port)), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=host) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def test_command_serves_until_sigterm_and_keeps_state(tmp_path: Path, schema_checker: SchemaChecker) -> None:
    state = tmp_path / "state"
    process = subprocess.Popen(
        [sys.executable, "-m", "calendar_app", "sandbox", "--port", "0", "--state", str(state),
         "--user", "CONTOSO\\alice:Alice-Pass-1", "--user", "CONTOSO\\svc:Svc-Pass-1",
         "--mailbox", "alice@contoso.com", "--mailbox", "bob@contoso.com",
         "--deny-impersonation", "CONTOSO\\svc:bob@contoso.com"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        banner = _read_banner(process)
        url = re.search(r"EWS URL:\s+(\S+)", banner).group(1)  # type: ignore[union-attr]
        fingerprint = re.search(r"SHA-256\s+([0-9A-F:]{95})", banner).group(1)  # type: ignore[union-attr]
        assert "CONTOSO\\alice / Alice-Pass-1  own mailbox alice@contoso.com" in banner
        assert "CONTOSO\\svc / Svc-Pass-1  may impersonate alice@contoso.com\n" in banner
        ca_file = state / "tls" / "sandbox-root-ca.pem"
        assert _presented_fingerprint(url, ca_file) == fingerprint

        with requests.Session() as session:
            session.auth = HttpNtlmAuth("CONTOSO\\alice", "Alice-Pass-1")
            response = session.post(url, data=CREATE.encode(), verify=str(ca_file), timeout=30,
                                    headers={"Content-Type": "text/xml; charset=utf-8"})
        assert response.status_code == 200 and b"NoError" in response.content
        assert schema_checker.problems(CREATE.encode()) == []
        assert schema_checker.problems(response.content) == []
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "sandbox stopped; state kept in" in out
    saved = json.loads((state / "mailboxes" / "alice@contoso.com.json").read_text())
    assert any("Kept across restarts" in item["xml"] for item in saved["items"])

    # The next start reuses the certificate and the items.
    config = SandboxConfig(users=(SandboxUser("CONTOSO", "alice", "Alice-Pass-1"),), mailboxes=("alice@contoso.com",))
    with SandboxServer(config, state) as again:
        assert again.certificate_sha256 == fingerprint
        assert [item.text("Subject") for item in again.calendar_items("alice@contoso.com")] == ["Kept across restarts"]


@pytest.mark.parametrize(("arguments", "message"), [
    (["--user", "alice:secret"], "expected 'DOMAIN\\name:password'"),
    (["--user", "C\\a:p", "--mailbox", "not-an-address"], "expected an SMTP address"),
    (["--mailbox", "alice@contoso.com"], "needs at least one --user"),
    (["--user", "C\\a:p", "--deny-impersonation", "nobody"], "expected 'DOMAIN\\name:SMTP'"),
    (["--fault", "busy:soon"], "expected KIND[:VALUE][@OPERATION][*TIMES]"),
    (["--fault", "meltdown"], "unknown kind 'meltdown'"),
    (["--port", "70000"], "expected 0 (any free port) to 65535"),
])
def test_bad_options_get_one_line_and_exit_code_2(arguments: list[str], message: str,
                                                  capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["sandbox", "--state", str(tmp_path), *arguments]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1
    assert "secret" not in error


def test_port_in_use_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["sandbox", "--state", str(tmp_path), "--port", str(port)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_sync_state_survives_a_restart(tmp_path: Path, seeded_tls: Path, schema_checker: SchemaChecker,
                                       exchangelib_trusting_session_ca: None) -> None:
    from exchangelib import DELEGATE, NTLM, Account, Configuration, Credentials
    from exchangelib.items import SEND_TO_NONE
    from exchangelib.protocol import CachingProtocol

    from tests.sandbox.conftest import finish_checked, start_checked

    config = SandboxConfig(users=(SandboxUser("CONTOSO", "alice", "Alice-Pass-1"),), mailboxes=("alice@contoso.com",))
    state = tmp_path / "state"

    def account_for(server: SandboxServer) -> Account:
        credentials = Credentials("CONTOSO\\alice", "Alice-Pass-1")
        return Account("alice@contoso.com", access_type=DELEGATE, autodiscover=False, config=Configuration(
            service_endpoint=server.url, credentials=credentials, auth_type=NTLM))

    server = start_checked(config, state, seeded_tls, schema_checker)
    try:
        server.add_calendar_item("alice@contoso.com", (
            '<t:CalendarItem xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><t:Subject>One'
            "</t:Subject><t:Start>2027-07-01T08:00:00Z</t:Start><t:End>2027-07-01T09:00:00Z</t:End></t:CalendarItem>"))
        calendar = account_for(server).calendar
        assert [kind for kind, _ in calendar.sync_items()] == ["create"]
        sync_state = calendar.item_sync_state
    finally:
        finish_checked(server, schema_checker)
        CachingProtocol.clear_cache()

    server = start_checked(config, state, seeded_tls, schema_checker)
    try:
        account = account_for(server)
        calendar = account.calendar
        assert list(calendar.sync_items(sync_state=sync_state)) == []
        (item,) = list(calendar.all())
        item.subject = "One, moved"
        item.save(update_fields=["subject"], send_meeting_invitations=SEND_TO_NONE)
        assert [(kind, i.subject) for kind, i in calendar.sync_items(sync_state=sync_state)] == [
            ("update", "One, moved")]
    finally:
        finish_checked(server, schema_checker)
