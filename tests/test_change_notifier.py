"""The Qt-free real-time pieces with the in-memory fake: the notifier wakes on any change, and the live
loop pushes local edits and pulls remote ones without waiting for the catch-up pull."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from calendar_app.sync.change_notifier import InMemoryChangeNotifier, NoChangeNotifier
from calendar_app.sync.in_memory_remote import InMemoryRemoteCalendar
from calendar_app.sync.live_sync import run_live
from tests.support.calendar_sync import LocalCalendar, meeting

WAIT = 10.0


def test_the_in_memory_notifier_reports_each_change_once() -> None:
    remote = InMemoryRemoteCalendar()
    notifier = InMemoryChangeNotifier(remote)
    never = threading.Event()
    assert not notifier.wait_for_change(0.05, never)
    item_id = remote.external_create(meeting())
    assert notifier.wait_for_change(WAIT, never)
    assert not notifier.wait_for_change(0.05, never)
    remote.external_update(item_id, subject="Renamed")
    assert notifier.wait_for_change(WAIT, never)
    remote.external_delete(item_id)
    assert notifier.wait_for_change(WAIT, never)


def test_a_cancelled_wait_returns_at_once() -> None:
    cancel = threading.Event()
    cancel.set()
    started = time.monotonic()
    assert not InMemoryChangeNotifier(InMemoryRemoteCalendar()).wait_for_change(60, cancel)
    assert not NoChangeNotifier().wait_for_change(60, cancel)
    assert time.monotonic() - started < 30  # not the minute asked for


def test_live_sync_pushes_local_edits_and_pulls_remote_changes(tmp_path: Path) -> None:
    remote = InMemoryRemoteCalendar()
    local = LocalCalendar.open(tmp_path / "calendar.sqlite3", remote)
    notifier = InMemoryChangeNotifier(remote)
    stop, poke = threading.Event(), threading.Event()
    worker = threading.Thread(target=run_live, args=(local.engine, notifier, stop),
                              kwargs={"local_change": poke, "catch_up_seconds": 3600})
    worker.start()
    try:
        mine = meeting("Mine")
        local.repo.add(mine)
        poke.set()
        deadline = time.monotonic() + WAIT
        while not [i for i in remote.items() if i.local_uuid == mine.uuid]:
            assert time.monotonic() < deadline, "the local edit was not pushed"
            time.sleep(0.01)
        remote.external_create(meeting("Theirs", hour=14))
        while "Theirs" not in {a.subject for a in local.appointments().values()}:
            assert time.monotonic() < deadline, "the remote change was not pulled"
            time.sleep(0.01)
    finally:
        stop.set()
        worker.join(timeout=WAIT)
    assert not worker.is_alive()
