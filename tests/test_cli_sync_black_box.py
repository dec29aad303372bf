"""The headless commands as an admin's script and a rep's terminal use them: real subprocesses, a real
Secret Service (tests/run-with-keyring.sh), the sandbox over real TLS + NTLM in this process, and
profiles in their own XDG folders."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509

from calendar_app.exchange.connection_settings import SignInMode
from calendar_app.sandbox import SandboxServer
from calendar_app.security.keystore import TrustedCertificate, create_truststore
from tests.support.calendar_sync import meeting
from tests.support.exchange_sandbox import REP, REP_MAILBOX, SERVICE, running_sandbox
from tests.support.system import require

KEYSTORE_PASSWORD = "Keystore-Pass-1"
WAIT = 30.0


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    with running_sandbox(tmp_path / "sandbox") as running:
        yield running.server


class Profile:
    """One profile's folders and the environment a script would set."""

    def __init__(self, root: Path, password: str) -> None:
        require(os.environ.get("CALENDAR_APP_TEST_KEYRING") == "1", "Secret Service (gnome-keyring under dbus)",
                "run through tests/run-with-keyring.sh: apt-get install dbus gnome-keyring")
        self.root = root
        self.env = {**os.environ, "XDG_CONFIG_HOME": str(root / "config"), "XDG_DATA_HOME": str(root / "data"),
                    "XDG_STATE_HOME": str(root / "state"), "XDG_CACHE_HOME": str(root / "cache"),
                    "CALENDAR_APP_PASSWORD": password, "CALENDAR_APP_KEYSTORE_PASSWORD": KEYSTORE_PASSWORD,
                    "TZ": "Europe/Berlin"}

    def run(self, *args: str, check: bool = True,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([sys.executable, "-m", "calendar_app", *args], capture_output=True, text=True,
                                env=env or self.env, timeout=120, stdin=subprocess.DEVNULL)
        if check:
            assert result.returncode == 0, f"{args}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
        return result

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "calendar_app", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env, stdin=subprocess.DEVNULL)

    def listing(self) -> list[dict[str, object]]:
        return list(json.loads(self.run("appointments", "list", "--json").stdout))


def keystore_for(server: SandboxServer, folder: Path) -> Path:
    path = folder / "exchange.p12"
    ca = x509.load_pem_x509_certificate(server.ca_pem)
    path.write_bytes(create_truststore([TrustedCertificate("exchange-ca", ca)], KEYSTORE_PASSWORD))
    return path


def subjects_on_server(server: SandboxServer) -> list[str]:
    return sorted(item.text("Subject") or "" for item in server.calendar_items(REP_MAILBOX))


def wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.keyring
@pytest.mark.parametrize("mode", list(SignInMode))
def test_configure_add_sync_edit_cancel_status(sandbox: SandboxServer, tmp_path: Path, mode: SignInMode) -> None:
    user = SERVICE if mode is SignInMode.IMPERSONATION else REP
    profile = Profile(tmp_path / "profile", user.password)
    keystore = keystore_for(sandbox, tmp_path)

    # a wrong password: one actionable line, exit 2, nothing saved
    wrong = profile.run("configure", "--ews-url", sandbox.url, "--mailbox", REP_MAILBOX, "--user", user.account,
                        "--keystore", str(keystore), "--sign-in", mode.value, "--enable", check=False,
                        env={**profile.env, "CALENDAR_APP_PASSWORD": "not-the-password"})
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
    assert wrong.stderr.count("\n") == 1 and "password" in wrong.stderr
    assert not (tmp_path / "profile" / "config" / "calendar-app" / "settings.json").exists()

    out = profile.run("configure", "--ews-url", sandbox.url, "--mailbox", REP_MAILBOX, "--user", user.account,
                      "--keystore", str(keystore), "--sign-in", mode.value, "--enable").stdout
    assert "connection tested" in out
    settings = json.loads((tmp_path / "profile" / "config" / "calendar-app" / "settings.json").read_text())
    assert settings["sign_in_mode"] == mode.value and settings["server_version"]  # pinned at first contact
    assert user.password not in json.dumps(settings) and KEYSTORE_PASSWORD not in json.dumps(settings)
    assert (tmp_path / "profile" / "data" / "calendar-app" / "keystore" / "truststore.p12").stat().st_mode & 0o077 == 0

    uuid = profile.run("appointments", "add", "--subject", "Pricing with Fabrikam", "--start", "2026-05-04T09:00",
                       "--end", "2026-05-04T10:00", "--location", "Room 1", "--attendee", "buyer@fabrikam.com"
                       ).stdout.strip()
    allday = profile.run("appointments", "add", "--subject", "Trade fair", "--start", "2026-06-01", "--end",
                         "2026-06-03", "--all-day", "--tz", "Asia/Tokyo").stdout.strip()
    assert profile.run("status", "--json").stdout and json.loads(profile.run("status", "--json").stdout)["pending"] == 2

    report = profile.run("sync", "--once").stdout
    assert "sent 2" in report
    assert subjects_on_server(sandbox) == ["Pricing with Fabrikam", "Trade fair"]
    assert [m.recipient for m in sandbox.sent_messages(REP_MAILBOX, kind="invitation")] == ["buyer@fabrikam.com"]

    profile.run("appointments", "edit", uuid, "--subject", "Pricing (moved)", "--start", "2026-05-04T11:00")
    profile.run("sync", "--once")
    (moved,) = [i for i in sandbox.calendar_items(REP_MAILBOX) if i.text("Subject") == "Pricing (moved)"]
    assert moved.start == datetime(2026, 5, 4, 9, tzinfo=UTC)  # 11:00 in Berlin (CEST)
    assert len(sandbox.sent_messages(REP_MAILBOX, kind="update")) == 1  # a time change: the attendee hears once

    profile.run("appointments", "cancel", uuid)
    profile.run("sync", "--once")
    assert subjects_on_server(sandbox) == ["Trade fair"]
    assert [m.recipient for m in sandbox.sent_messages(REP_MAILBOX, kind="cancellation")] == ["buyer@fabrikam.com"]

    status = json.loads(profile.run("status", "--json").stdout)
    assert (status["connection"], status["pending"], status["failed"], status["conflicting"]) == ("connected", 0, 0, 0)
    (listed,) = profile.listing()
    assert listed["uuid"] == allday and listed["is_all_day"] and listed["timezone"] == "Asia/Tokyo"
    assert listed["sync_state"] == "synced"


@pytest.mark.keyring
def test_watch_pushes_and_pulls_in_real_time_until_terminated(sandbox: SandboxServer, tmp_path: Path) -> None:
    profile = Profile(tmp_path / "profile", SERVICE.password)
    keystore = keystore_for(sandbox, tmp_path)
    profile.run("configure", "--ews-url", sandbox.url, "--mailbox", REP_MAILBOX, "--user", SERVICE.account,
                "--keystore", str(keystore), "--enable")
    watcher = profile.start("sync", "--watch", "--catch-up", "3600")
    try:
        assert watcher.stdout is not None
        assert "watching" in watcher.stdout.readline()
        # a local edit from another process is pushed without another command
        started = time.monotonic()
        profile.run("appointments", "add", "--subject", "Added while watching", "--start", "2026-05-05T09:00")
        wait_for(lambda: "Added while watching" in subjects_on_server(sandbox), "the push")
        push = time.monotonic() - started
        # a change in Exchange (the rep in Outlook) arrives through the stream, not the hourly catch-up
        from tests.support.exchange_sandbox import SandboxRemote

        outlook = SandboxRemote(sandbox, SignInMode.OWN_ACCOUNT)
        try:
            started = time.monotonic()
            outlook.external_create(meeting("Booked in Outlook", day=6))
            wait_for(lambda: any(a["subject"] == "Booked in Outlook" for a in profile.listing()), "the pull")
            pull = time.monotonic() - started
        finally:
            outlook.close()
        print(f"\nsync --watch: local add → server {push * 1000:.0f} ms (incl. the add command's start-up); "
              f"Outlook create → local list {pull * 1000:.0f} ms (incl. the list command's start-up)")
    finally:
        watcher.send_signal(signal.SIGTERM)
        out, err = watcher.communicate(timeout=30)
    assert watcher.returncode == 0, err
    assert out.rstrip().endswith("stopped") and "Traceback" not in err


@pytest.mark.keyring
def test_commands_explain_bad_input_in_one_line(tmp_path: Path) -> None:
    profile = Profile(tmp_path / "profile", "unused")
    for args, expected in [
        (("sync", "--once"), "not configured"),
        (("appointments", "add", "--subject", "X", "--start", "next tuesday"), "ISO 8601"),
        (("appointments", "add", "--subject", "X", "--start", "2026-05-04T09:00", "--tz", "Mars/Base"), "time zone"),
        (("appointments", "add", "--subject", "X", "--start", "2026-05-04T09:00", "--attendee", "bob"),
         "not an e-mail address"),
        (("appointments", "edit", "6f1c1a52-5f0e-4a0b-9a59-3f2f8e0f6a11", "--subject", "Y"), "appointments list"),
        (("configure", "--ews-url", "http://mail.contoso.com/EWS/Exchange.asmx", "--mailbox", "rep@contoso.com",
          "--user", "svc", "--no-check"), "https"),
    ]:
        result = profile.run(*args, check=False)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert expected in result.stderr and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
