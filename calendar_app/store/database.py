"""The SQLite database: one connection per thread, WAL, migrations, translated errors.

WAL lets the GUI read while the sync thread writes. Writers still take turns (in this process in
arrival order: writer_turns.py), so every write transaction here is short and never spans network I/O.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from calendar_app.store.errors import DatabaseTooNewError, StoreError, translate
from calendar_app.store.migrations import LATEST_VERSION, MIGRATIONS
from calendar_app.store.writer_turns import writer_turns_for

log = logging.getLogger(__name__)

DATABASE_FILE_NAME = "calendar.sqlite3"


class Database:
    """A calendar database file. Safe to share between threads: each thread gets its own
    connection on first use (sqlite3 connections must not cross threads)."""

    def __init__(self, path: Path, *, busy_timeout_ms: int = 2000) -> None:
        self.path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._all_connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._writer_turns = writer_turns_for(path)

    @classmethod
    def open(cls, path: Path, *, busy_timeout_ms: int = 2000) -> Database:
        """Open (creating if needed) and bring the schema up to date."""
        database = cls(path, busy_timeout_ms=busy_timeout_ms)
        database.migrate()
        return database

    # ------------------------------------------------------------------ connections
    def connection(self) -> sqlite3.Connection:
        existing: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if existing is not None:
            return existing
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a transaction is exactly
            # what the `transaction()` block covers and nothing commits behind our back.
            connection = sqlite3.connect(
                self.path, isolation_level=None, timeout=self._busy_timeout_ms / 1000,
                check_same_thread=True,
            )
            connection.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            journal = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(journal).lower() != "wal":
                log.warning("SQLite refused WAL mode for %s (got %s)", self.path, journal)
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as error:
            raise translate(error, self.path) from error
        except OSError as error:
            raise StoreError(
                f"The calendar database folder {self.path.parent} cannot be created ({error.strerror}). "
                "Check the path and your permissions."
            ) from error
        self._local.connection = connection
        with self._lock:
            self._all_connections.append(connection)
        return connection

    def close(self) -> None:
        """Close this thread's connection (other threads close their own)."""
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None
            with self._lock:
                self._all_connections = [c for c in self._all_connections if c is not connection]

    # ------------------------------------------------------------------ transactions
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: all of the block or none of it. BEGIN IMMEDIATE takes the
        write lock up front, so a busy database fails here, before any work is done.

        Inside another `transaction()` block of the same thread the block is a savepoint of the
        outer one: still all of it or none of it, but committed only with the outer block. That
        lets a caller apply many outcomes in one commit (the sync's pull) with the same methods
        that apply one."""
        depth: int = getattr(self._local, "depth", 0)
        if depth:
            with self._savepoint(depth) as connection:
                yield connection
            return
        connection = self.connection()
        if not self._writer_turns.acquire(self._busy_timeout_ms / 1000):
            raise translate(sqlite3.OperationalError("database is locked"), self.path)
        try:
            try:
                connection.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise translate(error, self.path) from error
            self._local.depth = 1
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException as error:
                if connection.in_transaction:
                    try:
                        connection.execute("ROLLBACK")
                    except sqlite3.Error:
                        log.exception("rollback failed on %s", self.path)
                if isinstance(error, sqlite3.Error):
                    translated = translate(error, self.path)
                    if translated is not error:
                        raise translated from error
                raise
            finally:
                self._local.depth = 0
        finally:
            self._writer_turns.release()

    @contextmanager
    def _savepoint(self, depth: int) -> Iterator[sqlite3.Connection]:
        connection = self.connection()
        name = f"nested_{depth}"
        try:
            connection.execute(f"SAVEPOINT {name}")
        except sqlite3.Error as error:
            raise translate(error, self.path) from error
        self._local.depth = depth + 1
        try:
            yield connection
            connection.execute(f"RELEASE {name}")
        except BaseException as error:
            if connection.in_transaction:  # SQLite may have rolled the whole transaction back itself
                try:
                    connection.execute(f"ROLLBACK TO {name}")
                    connection.execute(f"RELEASE {name}")
                except sqlite3.Error:
                    log.exception("rollback to a savepoint failed on %s", self.path)
            if isinstance(error, sqlite3.Error):
                translated = translate(error, self.path)
                if translated is not error:
                    raise translated from error
            raise
        finally:
            self._local.depth = depth

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A consistent read snapshot (a deferred transaction), errors translated. Inside this
        thread's write transaction it reads that transaction, its own writes included."""
        connection = self.connection()
        try:
            if getattr(self._local, "depth", 0):
                yield connection
                return
            connection.execute("BEGIN")
            try:
                yield connection
            finally:
                if connection.in_transaction:
                    connection.execute("COMMIT")
        except sqlite3.Error as error:
            translated = translate(error, self.path)
            if translated is not error:
                raise translated from error
            raise

    # ------------------------------------------------------------------ schema
    def schema_version(self) -> int:
        with self.reading() as connection:
            return int(connection.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self, *, target: int = LATEST_VERSION) -> None:
        current = self.schema_version()
        if current > LATEST_VERSION:
            raise DatabaseTooNewError(
                f"The calendar database {self.path} was written by a newer calendar-app (schema "
                f"{current}, this version knows {LATEST_VERSION}). Install the newer version again."
            )
        for version in range(current + 1, target + 1):
            with self.transaction() as connection:
                # executescript would COMMIT our transaction; run the statements one by one.
                for statement in _statements(MIGRATIONS[version - 1]):
                    connection.execute(statement)
                connection.execute(f"PRAGMA user_version = {version}")
            log.info("calendar database %s migrated to schema %d", self.path, version)


def _statements(script: str) -> Iterator[str]:
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                yield buffer.strip()
            buffer = ""
    if buffer.strip():
        yield buffer.strip()
