"""Real-time sync: the loop the GUI's worker thread and `sync --watch` run. Every wait here is for an
outcome (with a generous timeout), never a measurement of time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from calendar_app.sync.in_memory_remote import Fault, InMemoryRemoteCalendar
from calendar_app.sync.remote_calendar import AuthFailed, Throttled
from calendar_app.sync.report import SyncReport
from calendar_app.sync.sync_loop import SyncLoop
from tests.support.calendar_sync import LocalCalendar, meeting, remote_appointments

TIMEOUT = 10.0


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.01)


class Running:
    def __init__(self, local: LocalCalendar, remote: InMemoryRemoteCalendar, **options: object) -> None:
        self.reports: list[SyncReport] = []
        self.loop = SyncLoop(local.engine, on_report=self.reports.append, change_feed=remote,
                             catch_up_seconds=3600, **options)  # type: ignore[arg-type]
        self.thread = threading.Thread(target=self.loop.run, name="sync-test")

    def __enter__(self) -> Running:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.stop()
        self.thread.join(timeout=TIMEOUT)
        assert not self.thread.is_alive(), "the sync loop did not stop"


@pytest.fixture
def remote() -> InMemoryRemoteCalendar:
    return InMemoryRemoteCalendar()


@pytest.fixture
def local(tmp_path: Path, remote: InMemoryRemoteCalendar) -> Iterator[LocalCalendar]:
    yield LocalCalendar.open(tmp_path / "calendar.sqlite3", remote)


def test_a_local_save_is_pushed_after_a_poke(local: LocalCalendar, remote: InMemoryRemoteCalendar) -> None:
    with Running(local, remote) as running:
        wait_until(lambda: bool(running.reports), "the first run finished")
        a = meeting()
        local.repo.add(a)  # the GUI thread's save ...
        running.loop.poke()  # ... and its poke
        wait_until(lambda: a.uuid in remote_appointments(remote), "the new appointment reached the server")


def test_a_remote_change_is_pulled_without_waiting_for_the_catch_up(local: LocalCalendar,
                                                                    remote: InMemoryRemoteCalendar) -> None:
    with Running(local, remote) as running:
        wait_until(lambda: bool(running.reports), "the first run finished")
        item_id = remote.external_create(meeting("Booked on the phone"))
        wait_until(lambda: len(local.appointments()) == 1, "the change feed woke a pull")
        remote.external_update(item_id, subject="Renamed in Outlook")
        wait_until(lambda: [a.subject for a in local.appointments().values()] == ["Renamed in Outlook"],
                   "the update arrived")


def test_throttling_is_honoured_and_the_loop_converges(local: LocalCalendar, remote: InMemoryRemoteCalendar) -> None:
    remote.inject(Fault(Throttled(back_off_seconds=0.2), frozenset({"create"})))
    a = meeting()
    local.repo.add(a)
    with Running(local, remote) as running:
        wait_until(lambda: a.uuid in remote_appointments(remote), "the create went through after the back-off")
        assert any(r.retry_after_seconds for r in running.reports)
    assert remote.back_off_violations() == 0


def test_an_error_only_a_person_can_fix_parks_the_loop_until_poked(local: LocalCalendar,
                                                                    remote: InMemoryRemoteCalendar) -> None:
    remote.inject(Fault(AuthFailed()))
    a = meeting()
    local.repo.add(a)
    with Running(local, remote) as running:
        wait_until(lambda: any(r.fatal_kind == "AuthFailed" for r in running.reports), "the auth error surfaced")
        runs_when_parked = len(running.reports)
        assert a.uuid not in remote_appointments(remote)
        running.loop.poke()  # e.g. the admin entered the right password
        wait_until(lambda: a.uuid in remote_appointments(remote), "the sync resumed after the poke")
        assert len(running.reports) > runs_when_parked


def test_stop_ends_a_long_back_off_wait(local: LocalCalendar, remote: InMemoryRemoteCalendar) -> None:
    remote.inject(Fault(Throttled(back_off_seconds=3600), frozenset({"create"})))
    local.repo.add(meeting())
    with Running(local, remote) as running:
        wait_until(lambda: any(r.retry_after_seconds for r in running.reports), "the server asked us to wait")
    assert running.loop.stopped
