"""Real time against the sandbox: a change made by another client (the rep in Outlook) reaches the
local calendar through the streaming subscription, without the periodic pull."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from calendar_app.exchange.account_factory import make_account
from calendar_app.exchange.connection_settings import SignInMode
from calendar_app.exchange.streaming_notifier import StreamingChangeNotifier
from calendar_app.security.pinned_transport import PinnedTlsAdapter
from calendar_app.store import AppointmentRepository, Database
from calendar_app.sync.engine import SyncEngine
from calendar_app.sync.live_sync import run_live
from tests.support.calendar_sync import meeting
from tests.support.exchange_sandbox import (
    LOCAL_ZONE,
    SandboxRemote,
    connection_settings,
    password_for,
    running_sandbox,
    trusted_certificates,
)

WAIT = 20.0  # generous: the machine is shared; the figure that matters is printed


def _notifier(remote: SandboxRemote, mode: SignInMode) -> StreamingChangeNotifier:
    trusted = trusted_certificates(remote.server)
    settings = connection_settings(remote.server, mode)
    return StreamingChangeNotifier(
        lambda: make_account(settings, password_for(mode), lambda: PinnedTlsAdapter(trusted), timezone=LOCAL_ZONE),
        fallback_pull_seconds=3600)


@pytest.mark.parametrize("mode", list(SignInMode))
def test_a_remote_change_reaches_the_local_calendar_through_the_stream(tmp_path: Path, mode: SignInMode) -> None:
    with running_sandbox(tmp_path / "sandbox") as sandbox:
        remote = sandbox.remote(mode)
        notifier = _notifier(remote, mode)
        database = Database.open(tmp_path / "calendar.sqlite3")
        engine = SyncEngine(database, remote)
        repo = AppointmentRepository(database)
        stop = threading.Event()
        runs: list[float] = []
        options = {"catch_up_seconds": 3600, "on_report": lambda _report: runs.append(time.monotonic())}
        worker = threading.Thread(target=run_live, args=(engine, notifier, stop), kwargs=options)
        try:
            assert notifier.wait_until_streaming(WAIT), notifier.last_error
            worker.start()
            deadline = time.monotonic() + WAIT
            while not runs and time.monotonic() < deadline:  # the first (catch-up) run
                time.sleep(0.02)
            latencies = []
            for n in range(3):
                before = len(runs)
                started = time.monotonic()
                item_id = remote.external_create(meeting(f"Booked in Outlook {n}", day=5 + n))
                while time.monotonic() - started < WAIT:
                    if any(s.appointment.subject == f"Booked in Outlook {n}" for s in repo.all()):
                        break
                    time.sleep(0.01)
                latencies.append(time.monotonic() - started)
                # the run that stored it reports when it ends, a moment after its commit
                while len(runs) <= before and time.monotonic() - started < WAIT:
                    time.sleep(0.01)
                assert len(runs) > before, "no sync run followed the remote change"
                assert item_id
            print(f"\nstreaming ({mode}): remote create → local calendar in "
                  + ", ".join(f"{x * 1000:.0f} ms" for x in latencies))
            assert {s.appointment.subject for s in repo.all()} == {f"Booked in Outlook {n}" for n in range(3)}
            # the catch-up pull is an hour away: only the stream can have woken the engine
            assert len(runs) <= 1 + 3 * 3
        finally:
            stop.set()
            notifier.close()
            worker.join(timeout=10)
            database.close()
        assert not worker.is_alive()


def test_the_stream_reopens_after_the_server_closes_it(tmp_path: Path) -> None:
    with running_sandbox(tmp_path / "sandbox") as sandbox:
        remote = sandbox.remote(SignInMode.IMPERSONATION)
        notifier = _notifier(remote, SignInMode.IMPERSONATION)
        never = threading.Event()
        try:
            assert notifier.wait_until_streaming(WAIT), notifier.last_error
            first = notifier.subscription_id
            assert first is not None
            sandbox.server.hub.unsubscribe(first)  # Exchange dropped the subscription (a restart, a move)
            deadline = time.monotonic() + WAIT
            while not (notifier.is_streaming and notifier.subscription_id not in (None, first)):
                assert time.monotonic() < deadline, notifier.last_error
                time.sleep(0.05)
            assert notifier.wait_for_change(WAIT, never)  # the gap is reported: a pull must catch up
            remote.external_create(meeting("After the restart"))
            assert notifier.wait_for_change(WAIT, never)
        finally:
            notifier.close()


def test_without_a_stream_the_notifier_falls_back_to_periodic_pulls(tmp_path: Path) -> None:
    import socket

    with running_sandbox(tmp_path / "sandbox") as sandbox:
        with socket.socket() as spare:
            spare.bind(("127.0.0.1", 0))
            closed_port = spare.getsockname()[1]
        trusted = trusted_certificates(sandbox.server)
        settings = connection_settings(sandbox.server, SignInMode.IMPERSONATION,
                                       ews_url=f"https://127.0.0.1:{closed_port}/EWS/Exchange.asmx")
        notifier = StreamingChangeNotifier(
            lambda: make_account(settings, password_for(SignInMode.IMPERSONATION), lambda: PinnedTlsAdapter(trusted),
                                 timezone=LOCAL_ZONE),
            fallback_pull_seconds=0.5)
        never = threading.Event()
        try:
            assert notifier.wait_for_change(WAIT, never)  # a pull is due although nothing was heard
            assert not notifier.is_streaming and notifier.last_error is not None
            assert "cannot be reached" in notifier.last_error
        finally:
            notifier.close()
