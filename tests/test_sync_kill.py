"""A sync process killed with SIGKILL at random moments, then started again, must leave every edit
on the server exactly once: nothing lost, nothing duplicated, no cancellation sent twice.

The server (the in-memory remote calendar) runs in its own process on 127.0.0.1 so it survives the
kills; the calendar database is a real SQLite file. Each trial makes 200 edits in batches; after
each batch a sync process starts and is killed once the server has seen a random number of its
requests (so the kill lands mid-sync: before a request, while the server carries one out, or
after it committed and before the answer arrived). The last process runs to the end.

CALENDAR_APP_KILL_TRIALS (default 10) and CALENDAR_APP_KILL_EDITS (default 200) set the size;
a soak runs e.g. CALENDAR_APP_KILL_TRIALS=30.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from calendar_app.domain import Appointment
from calendar_app.store import AppointmentRepository, Database, Outbox, SyncRecords
from tests.support.calendar_sync import meeting
from tests.support.remote_server import RemoteCalendarServer

TRIALS = int(os.environ.get("CALENDAR_APP_KILL_TRIALS", "10"))
EDITS = int(os.environ.get("CALENDAR_APP_KILL_EDITS", "200"))
BATCHES = 5
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def server() -> Iterator[RemoteCalendarServer]:
    manager = RemoteCalendarServer(address=("127.0.0.1", 0), authkey=os.urandom(16))
    manager.start()
    yield manager
    manager.shutdown()


class EditScript:
    """The rep's edits, and the calendar they must add up to."""

    def __init__(self, repo: AppointmentRepository, rng: random.Random) -> None:
        self.repo, self.rng = repo, rng
        self.expected: dict[str, Appointment] = {}
        self.counter = 0

    def edit(self) -> None:
        self.counter += 1
        n, roll = self.counter, self.rng.random()
        if not self.expected or roll < 0.3:
            attendees = {"required_attendees": (f"buyer{n}@fabrikam.com",)} if self.rng.random() < 0.5 else {}
            a = meeting(f"Visit {n}", day=1 + n % 28, hour=8 + n % 9, **attendees)  # type: ignore[arg-type]
            self.repo.add(a)
            self.expected[a.uuid] = a
            return
        uuid = self.rng.choice(sorted(self.expected))
        if roll > 0.9:
            self.repo.cancel(uuid)
            del self.expected[uuid]
            return
        current = self.expected[uuid]
        changes: dict[str, Any] = self.rng.choice([
            {"subject": f"Subject {n}"},
            {"location": f"Room {n}"},
            {"body": f"Notes {n}"},
            {"reminder_minutes": n % 600},
            {"start": current.start + timedelta(minutes=30), "end": current.end + timedelta(minutes=30)},
            {"optional_attendees": (f"guest{n}@contoso.com",)},
        ])
        updated = current.with_changes(**changes)
        self.repo.update(updated)
        self.expected[uuid] = updated


def start_sync_process(database_file: Path, server: RemoteCalendarServer) -> subprocess.Popen[bytes]:
    host, port = server.address  # type: ignore[misc]
    assert host == "127.0.0.1"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.sync_worker", str(database_file), str(port),
         server._authkey.hex()],  # type: ignore[attr-defined]
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def total_calls(remote: Any) -> int:
    return sum(remote.call_counts().values())


def kill_after_requests(process: subprocess.Popen[bytes], remote: Any, requests: int) -> bool:
    """SIGKILL the process once the server has received `requests` more requests from it.
    Returns whether the kill landed (the process had not finished on its own)."""
    start = total_calls(remote)
    deadline = time.monotonic() + 60
    while process.poll() is None and total_calls(remote) - start < requests:
        if time.monotonic() > deadline:
            break
        time.sleep(0.002)
    if process.poll() is not None:
        process.communicate(timeout=30)
        return False
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)
    return process.returncode == -signal.SIGKILL


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(TRIALS))
def test_killed_sync_processes_leave_every_edit_on_the_server_exactly_once(
        trial: int, tmp_path: Path, server: RemoteCalendarServer) -> None:
    rng = random.Random(trial)
    database_file = tmp_path / "calendar.sqlite3"
    database = Database.open(database_file)
    script = EditScript(AppointmentRepository(database), rng)
    remote = server.calendar()  # type: ignore[attr-defined]

    kills = 0
    for _ in range(BATCHES):
        for _ in range(EDITS // BATCHES):
            script.edit()
        process = start_sync_process(database_file, server)
        kills += kill_after_requests(process, remote, rng.randint(1, 15))

    final = start_sync_process(database_file, server)
    _, stderr = final.communicate(timeout=120)
    assert final.returncode == 0, (stderr.decode(errors="replace"), SyncRecords(database).conflicts())
    assert kills >= 1, "no kill landed mid-sync: the trial proved nothing"
    print(f"trial {trial}: {kills} of {BATCHES} sync processes killed mid-sync, {EDITS} edits")  # for soak logs

    items = remote.items()
    per_uuid = Counter(i.appointment.uuid for i in items)
    assert [u for u, n in per_uuid.items() if n > 1] == [], "duplicates on the server"
    assert {i.appointment.uuid: i.appointment for i in items} == script.expected
    local = {s.appointment.uuid: s.appointment for s in AppointmentRepository(database).all()}
    assert local == script.expected
    assert Outbox(database).pending_count() == 0
    cancellations = Counter((m.item_id, m.to) for m in remote.sent_messages() if m.kind == "cancellation")
    assert [k for k, n in cancellations.items() if n > 1] == [], "a cancellation went out twice"
    # One meeting request per attendee per appointment created, however often the create was retried.
    requests = Counter((m.local_uuid, m.to) for m in remote.sent_messages() if m.cause == "create")
    assert [k for k, n in requests.items() if n > 1] == [], "a meeting request went out twice"
    for uuid, appointment in script.expected.items():
        for attendee in appointment.required_attendees:
            assert requests[(uuid, attendee)] == 1, f"{attendee} was never invited to {uuid}"
