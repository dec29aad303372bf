"""Crash safety against the sandbox: a sync process killed with SIGKILL at random moments while it
pushes 200 edits leaves, after a final uninterrupted run, every edit on the server exactly once —
one item per appointment, the newest values, one invitation per attendee per meeting and one update
per attendee per time change that reached an existing meeting.

Trials: CALENDAR_APP_KILL_TRIALS (default 5 in `make test`; `make soak` runs 100, the issue's figure)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from calendar_app.domain import Appointment
from calendar_app.exchange.connection_settings import SignInMode
from calendar_app.sandbox import SandboxServer
from calendar_app.store import AppointmentRepository, Database
from tests.support.calendar_sync import meeting
from tests.support.exchange_sandbox import REP_MAILBOX, SERVICE, running_sandbox

TRIALS = int(os.environ.get("CALENDAR_APP_KILL_TRIALS", "5"))
CREATES, UPDATES = 150, 50
REPO_ROOT = Path(__file__).resolve().parent.parent


def start_worker(config: Path, *, capture: bool = False) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "tests.support.kill_sync_worker", str(config)], cwd=REPO_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE if capture else subprocess.DEVNULL)


class ServerChanges:
    """Counts the changes the sandbox applies to the rep's calendar (its own change listener), so a
    kill can be aimed at a point inside the sync however fast this machine syncs."""

    def __init__(self, server: SandboxServer) -> None:
        self._mailbox = server.mailbox(REP_MAILBOX)
        self._seen = 0
        self._changed = threading.Condition()
        self._mailbox.listeners.append(self._on_change)

    def _on_change(self, event: Any) -> None:
        if event.folder == "calendar":
            with self._changed:
                self._seen += 1
                self._changed.notify_all()

    @property
    def seen(self) -> int:
        with self._changed:
            return self._seen

    def wait_for(self, count: int, worker: subprocess.Popen[bytes]) -> bool:
        """True once `count` changes were applied; False if the worker ended first."""
        with self._changed:
            while self._seen < count:
                if worker.poll() is not None:
                    return False
                self._changed.wait(0.01)
        return True

    def close(self) -> None:
        self._mailbox.listeners.remove(self._on_change)


def kill_at_random(config: Path, rng: random.Random, kills: list[int], changes: ServerChanges, to_make: int, *,
                   wanted: int = 2, attempts: int = 6) -> None:
    """Start the worker and SIGKILL it once a random number of the `to_make` changes it has to make
    have reached the server, a random fraction of a request later (so inside a request as often as
    between two), until `wanted` kills have landed mid-sync or the worker finishes first. A random
    wait instead missed the sync altogether once in 100 trials, when it had finished sooner."""
    landed = 0
    first_seen = changes.seen
    for _ in range(attempts):
        worker = start_worker(config)
        assert worker.stdout is not None
        try:
            worker.stdout.readline()  # "syncing": imported and about to send its first request
            made = changes.seen - first_seen
            target = changes.seen + rng.randrange(max(1, to_make - made))
            if changes.wait_for(target, worker):
                time.sleep(rng.uniform(0.0, 0.004))
                if worker.poll() is None:
                    worker.send_signal(signal.SIGKILL)
                    worker.wait(timeout=10)
                    kills.append(changes.seen - first_seen)
                    landed += 1
            worker.wait(timeout=120)
        finally:
            worker.stdout.close()
        if landed >= wanted or worker.returncode == 0:
            return


def server_state(server: SandboxServer) -> Counter[str]:
    return Counter(item.text("Subject") or "" for item in server.calendar_items(REP_MAILBOX))


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(TRIALS))
def test_killed_sync_ends_with_every_edit_on_the_server_exactly_once(tmp_path: Path, trial: int) -> None:
    rng = random.Random(1000 + trial)
    with running_sandbox(tmp_path / "sandbox") as sandbox:
        server = sandbox.server
        (tmp_path / "ca.pem").write_bytes(server.ca_pem)
        config = tmp_path / "worker.json"
        config.write_text(json.dumps({
            "database": str(tmp_path / "calendar.sqlite3"), "url": server.url, "ca_file": str(tmp_path / "ca.pem"),
            "mailbox": REP_MAILBOX, "user": SERVICE.account, "password": SERVICE.password,
            "mode": SignInMode.IMPERSONATION.value}))
        database = Database.open(tmp_path / "calendar.sqlite3")
        repo = AppointmentRepository(database)
        expected: dict[str, Appointment] = {}
        for n in range(CREATES):
            attendees = (f"buyer{n}@fabrikam.com",) if n % 10 == 0 else ()
            a = meeting(f"Visit {n}", day=1 + n % 28, hour=8 + n % 9, required_attendees=attendees)
            repo.add(a)
            expected[a.uuid] = a
        kills: list[int] = []
        server_changes = ServerChanges(server)
        kill_at_random(config, rng, kills, server_changes, CREATES)

        moved_meetings: list[str] = []
        # A create that reached the server before the kill must be followed by an update to move a
        # meeting; one that did not (even if attempted) is sent later with the new times, and the
        # invitation is all the attendee gets.
        reached_server = server_state(server)
        for uuid in rng.sample(sorted(expected), UPDATES):
            a = expected[uuid]
            changes: dict[str, object] = {"subject": a.subject + " (edited)"}
            if a.has_attendees:
                changes.update(start=a.start + timedelta(hours=1), end=a.end + timedelta(hours=1))
                if reached_server[a.subject]:  # otherwise the move rides on the create
                    moved_meetings.append(a.required_attendees[0])
            expected[uuid] = a.with_changes(**changes)
            repo.update(expected[uuid])
        kill_at_random(config, rng, kills, server_changes, UPDATES)
        server_changes.close()

        assert kills, "no SIGKILL landed while the worker was syncing: the kill moments need adjusting"
        final = start_worker(config, capture=True)
        _, err = final.communicate(timeout=120)
        assert final.returncode == 0, err.decode()
        database.close()

        assert server_state(server) == Counter(a.subject for a in expected.values()), "missing or duplicated items"
        by_uuid = {}
        for remote in sandbox.remote(SignInMode.IMPERSONATION).items():
            assert remote.local_uuid not in by_uuid, f"duplicate {remote.local_uuid}"
            by_uuid[remote.local_uuid] = remote.appointment
        assert by_uuid == expected
        invitations = Counter(m.recipient for m in server.sent_messages(REP_MAILBOX, kind="invitation"))
        assert invitations == Counter(a.required_attendees[0] for a in expected.values() if a.has_attendees)
        updates = Counter(m.recipient for m in server.sent_messages(REP_MAILBOX, kind="update"))
        assert updates == Counter(moved_meetings)
        print(f"\nkill trial {trial}: {len(kills)} SIGKILLs, after {', '.join(map(str, kills))} server changes; "
              f"{CREATES} creates + {UPDATES} updates on the server exactly once")
