"""Transactions inside transactions (how the sync applies a pull in batches) and writers taking
turns, on a real SQLite file: an inner block is all-or-nothing on its own and commits only with
the outer one, reads inside see the block's own writes, and a writer that asks while another
thread writes back to back gets the next turn."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from calendar_app.store import Database
from calendar_app.store.errors import DatabaseLockedError
from calendar_app.store.writer_turns import writer_turns_for


@pytest.fixture
def database(tmp_path: Path) -> Database:
    database = Database.open(tmp_path / "calendar.sqlite3")
    with database.transaction() as c:
        c.execute("CREATE TABLE marks (id INTEGER PRIMARY KEY AUTOINCREMENT, who TEXT NOT NULL)")
    return database


def marks(database: Database) -> list[str]:
    with database.reading() as c:
        return [str(r[0]) for r in c.execute("SELECT who FROM marks ORDER BY id")]


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never became true"
        time.sleep(0.001)


def test_an_inner_block_commits_only_with_the_outer_one(database: Database, tmp_path: Path) -> None:
    other = Database(tmp_path / "calendar.sqlite3")
    with database.transaction() as outer:
        outer.execute("INSERT INTO marks (who) VALUES ('outer')")
        with database.transaction() as inner:
            inner.execute("INSERT INTO marks (who) VALUES ('inner')")
        with database.reading():  # this thread reads its own writes
            assert marks(database) == ["outer", "inner"]
        assert marks(other) == []  # nobody else sees them before the commit
    assert marks(other) == ["outer", "inner"]


def test_a_failed_outer_block_takes_the_inner_ones_with_it(database: Database) -> None:
    with pytest.raises(RuntimeError), database.transaction() as outer:
        with database.transaction() as inner:
            inner.execute("INSERT INTO marks (who) VALUES ('inner')")
        outer.execute("INSERT INTO marks (who) VALUES ('outer')")
        raise RuntimeError("crash before the commit")
    assert marks(database) == []


def test_a_failed_inner_block_is_undone_alone(database: Database) -> None:
    with database.transaction() as outer:
        outer.execute("INSERT INTO marks (who) VALUES ('before')")
        with pytest.raises(RuntimeError), database.transaction() as inner:
            inner.execute("INSERT INTO marks (who) VALUES ('half of an outcome')")
            raise RuntimeError("the second half failed")
        outer.execute("INSERT INTO marks (who) VALUES ('after')")
    assert marks(database) == ["before", "after"]
    with database.transaction() as c:  # the connection is usable again, not stuck in a transaction
        c.execute("INSERT INTO marks (who) VALUES ('next')")
    assert marks(database)[-1] == "next"


def test_a_writer_that_asks_gets_the_next_turn(database: Database) -> None:
    """The sync thread commits batch after batch; the rep's save, asked for during the first
    batch, lands right after it instead of after the last."""
    turns = writer_turns_for(database.path)
    in_first_batch = threading.Event()
    errors: list[BaseException] = []

    def rep_saves() -> None:
        in_first_batch.wait(10)
        try:
            with database.transaction() as c:
                c.execute("INSERT INTO marks (who) VALUES ('rep')")
        except BaseException as error:  # reported to the test thread
            errors.append(error)

    rep = threading.Thread(target=rep_saves)
    rep.start()
    with database.transaction() as c:
        c.execute("INSERT INTO marks (who) VALUES ('sync 0')")
        in_first_batch.set()
        wait_until(lambda: turns.waiting() == 1)  # the rep's save is queued behind this batch
    for n in range(1, 6):
        with database.transaction() as c:
            c.execute("INSERT INTO marks (who) VALUES (?)", (f"sync {n}",))
    rep.join(10)
    assert errors == []
    assert marks(database) == ["sync 0", "rep", "sync 1", "sync 2", "sync 3", "sync 4", "sync 5"]


def test_a_writer_gives_up_after_the_busy_timeout_without_blocking_the_queue(tmp_path: Path) -> None:
    path = tmp_path / "calendar.sqlite3"
    holder = Database.open(path)
    impatient = Database(path, busy_timeout_ms=100)
    release = threading.Event()
    holding = threading.Event()

    def hold() -> None:
        with holder.transaction():
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait(10)
    with pytest.raises(DatabaseLockedError, match="locked"), impatient.transaction():
        pass
    release.set()
    thread.join(10)
    with impatient.transaction() as c:  # the abandoned place in the queue holds nobody up
        c.execute("CREATE TABLE later (x INTEGER)")
    assert writer_turns_for(path).waiting() == 0
