"""A pull's changes are applied in batches, one commit each (engine.APPLY_BATCH): a failure or a
kill mid-batch loses that whole batch and nothing else, the folder's sync position stays where it
was, and the next run applies everything exactly once; a rep's save while a batch is open waits
for that batch and is neither lost nor overwritten. Real SQLite files throughout; the failure is
SQLite's own (a trigger reporting a full disk), the kill a real SIGKILL of a sync process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from calendar_app.store import AppointmentRepository, Database, SyncRecords
from calendar_app.store.errors import DatabaseFullError
from calendar_app.store.writer_turns import writer_turns_for
from calendar_app.sync.engine import APPLY_BATCH
from calendar_app.sync.in_memory_remote import InMemoryRemoteCalendar
from tests.support.calendar_sync import LocalCalendar, assert_same_calendars, meeting
from tests.support.remote_server import RemoteCalendarServer

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def stored_rows(database: Database) -> tuple[int, int]:
    """(appointments, of them with an Exchange item id in their sync status)."""
    with database.reading() as c:
        total = int(c.execute("SELECT COUNT(*) FROM appointments").fetchone()[0])
        linked = int(c.execute("SELECT COUNT(*) FROM appointments a JOIN sync_status s USING (uuid) "
                               "WHERE s.item_id IS NOT NULL AND s.snapshot IS NOT NULL").fetchone()[0])
    return total, linked


def assert_each_remote_item_once(database: Database, item_ids: list[str]) -> None:
    with database.reading() as c:
        local_ids = [str(r[0]) for r in c.execute("SELECT item_id FROM sync_status WHERE item_id IS NOT NULL")]
    assert [i for i, n in Counter(local_ids).items() if n > 1] == []
    assert sorted(local_ids) == sorted(item_ids)


def test_a_failure_mid_batch_loses_that_batch_only_and_the_next_run_applies_the_rest_once(
        tmp_path: Path) -> None:
    remote = InMemoryRemoteCalendar()
    count = 2 * APPLY_BATCH + 50
    item_ids = [remote.external_create(meeting(f"Visit {n}", day=1 + n % 28)) for n in range(count)]
    local = LocalCalendar.open(tmp_path / "calendar.sqlite3", remote)
    # The disk fills up while the second batch is half applied.
    poisoned = f"Visit {APPLY_BATCH + APPLY_BATCH // 2}"
    with local.database.transaction() as c:
        c.execute("CREATE TRIGGER disk_fills_up BEFORE INSERT ON appointments "
                  f"WHEN NEW.subject = '{poisoned}' BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")

    report = local.sync()
    assert report.fatal_kind == DatabaseFullError.__name__, report.summary()
    assert stored_rows(local.database) == (APPLY_BATCH, APPLY_BATCH)  # the first batch, whole; none of the second
    assert local.records.folder_sync_state("calendar") is None  # the next run reads the calendar again

    with local.database.transaction() as c:
        c.execute("DROP TRIGGER disk_fills_up")
    report = local.sync()
    assert report.converged and report.created_locally == count - APPLY_BATCH, report.summary()
    assert stored_rows(local.database) == (count, count)
    assert_each_remote_item_once(local.database, item_ids)
    assert local.records.folder_sync_state("calendar") is not None
    assert local.sync().created_locally == 0
    assert_same_calendars(local, remote)


def test_a_rep_save_while_a_batch_is_open_is_kept_and_merged(tmp_path: Path) -> None:
    remote = InMemoryRemoteCalendar()
    local = LocalCalendar.open(tmp_path / "calendar.sqlite3", remote)
    visit = meeting("Visit plan", location="Reception")
    local.repo.add(visit)
    assert local.sync().converged
    for n in range(2 * APPLY_BATCH):
        remote.external_create(meeting(f"Visit {n}", day=1 + n % 28))
    # Outlook renames the plan; its change comes after the creates, so a later batch merges it.
    remote.external_update(local.item_id(visit.uuid), subject="Visit plan (moved to Tuesday)")

    gui_repo = AppointmentRepository(local.database)  # used from the "GUI" thread: its own connection
    turns = writer_turns_for(local.database.path)
    gui_errors: list[BaseException] = []
    gui_saved = threading.Event()

    def rep_saves() -> None:
        try:
            gui_repo.update(visit.with_changes(location="Room 12"))
            gui_saved.set()
        except BaseException as error:  # reported to the test thread
            gui_errors.append(error)

    def rep_saves_now() -> int:
        """Called by SQLite on the sync thread, inside the first batch's write transaction."""
        threading.Thread(target=rep_saves).start()
        deadline = time.monotonic() + 10
        while turns.waiting() == 0 and time.monotonic() < deadline:
            time.sleep(0.001)  # until the rep's save is queued behind this batch
        return 0

    connection = local.database.connection()  # the sync thread's (this thread's) connection
    connection.create_function("rep_saves_now", 0, rep_saves_now)
    connection.execute("CREATE TEMP TRIGGER rep_saves_during_the_pull AFTER INSERT ON appointments "
                       "WHEN NEW.subject = 'Visit 7' BEGIN SELECT rep_saves_now(); END")

    report = local.sync()
    assert gui_saved.wait(10) and gui_errors == []
    assert report.fatal_error is None, report.summary()
    kept = local.appointments()[visit.uuid]
    assert (kept.subject, kept.location) == ("Visit plan (moved to Tuesday)", "Room 12")
    assert local.sync_until_converged().converged
    assert_same_calendars(local, remote)  # the rep's room reached Exchange too
    assert len(local.appointments()) == 2 * APPLY_BATCH + 1


# ---------------------------------------------------------------------- a real kill mid-pull

@pytest.fixture
def server() -> Iterator[RemoteCalendarServer]:
    manager = RemoteCalendarServer(address=("127.0.0.1", 0), authkey=os.urandom(16))
    manager.start()
    yield manager
    manager.shutdown()


def start_sync_process(database_file: Path, server: RemoteCalendarServer) -> subprocess.Popen[bytes]:
    _host, port = server.address  # type: ignore[misc]
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.sync_worker", str(database_file), str(port),
         server._authkey.hex()],  # type: ignore[attr-defined]
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def kill_once_a_batch_is_committed(process: subprocess.Popen[bytes], database: Database, count: int) -> bool:
    """SIGKILL the sync process as soon as some of the pull is stored; True if it landed mid-pull."""
    deadline = time.monotonic() + 60
    while process.poll() is None and stored_rows(database)[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.001)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)
    return process.returncode == -signal.SIGKILL and stored_rows(database)[0] < count


@pytest.mark.slow
def test_a_sync_process_killed_mid_pull_leaves_whole_batches_and_the_restart_applies_the_rest_once(
        tmp_path: Path, server: RemoteCalendarServer) -> None:
    remote: Any = server.calendar()  # type: ignore[attr-defined]
    count = 5 * APPLY_BATCH
    item_ids = [remote.external_create(meeting(f"Visit {n}", day=1 + n % 28)) for n in range(count)]
    landed = False
    for attempt in range(3):  # the kill may come too late on a fast run: try again with a fresh calendar
        database_file = tmp_path / f"calendar-{attempt}.sqlite3"
        database = Database.open(database_file)
        if kill_once_a_batch_is_committed(start_sync_process(database_file, server), database, count):
            landed = True
            break
    assert landed, "no kill landed mid-pull: the test proved nothing"

    total, linked = stored_rows(database)
    assert 0 < total < count and total % APPLY_BATCH == 0 and linked == total  # whole batches, whole outcomes
    assert SyncRecords(database).folder_sync_state("calendar") is None

    final = start_sync_process(database_file, server)
    _, stderr = final.communicate(timeout=120)
    assert final.returncode == 0, stderr.decode(errors="replace")
    assert stored_rows(database) == (count, count)
    assert_each_remote_item_once(database, item_ids)
    assert SyncRecords(database).folder_sync_state("calendar") is not None
