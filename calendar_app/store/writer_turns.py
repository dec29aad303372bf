"""Writers of one database file in this process take turns in the order they asked.

SQLite's own busy wait polls at growing intervals (up to 100 ms), so a writer that commits and
at once begins again (the sync thread applying a pull batch after batch) can keep the lock for
the whole pull while the rep's save on the GUI thread polls and misses every gap: measured, a
save waited 0.5 s through a 5,000-item first sync, and past the busy timeout it would fail.
Handing the turn over in arrival order bounds that wait by one write transaction.

Other processes (a second app window, the CLI) still meet SQLite's busy timeout as before.
"""

from __future__ import annotations

import threading
from collections import deque
from pathlib import Path


class WriterTurns:
    """A fair lock: `release` hands the turn to the longest-waiting writer, so the releasing
    thread cannot take it straight back."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._taken = False
        self._waiting: deque[threading.Event] = deque()

    def acquire(self, timeout: float) -> bool:
        """Wait for our turn; False after `timeout` seconds without one."""
        with self._lock:
            if not self._taken and not self._waiting:
                self._taken = True
                return True
            turn = threading.Event()
            self._waiting.append(turn)
        if turn.wait(timeout):
            return True
        with self._lock:
            if turn.is_set():  # handed to us just as we gave up
                return True
            self._waiting.remove(turn)
            return False

    def waiting(self) -> int:
        """How many writers are queued behind the current one."""
        with self._lock:
            return len(self._waiting)

    def release(self) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()  # still taken: now by the next writer
            else:
                self._taken = False


_turns: dict[str, WriterTurns] = {}
_turns_lock = threading.Lock()


def writer_turns_for(path: Path) -> WriterTurns:
    """The one queue for this database file in this process (however many Database objects
    open it: the GUI and the sync worker each open their own)."""
    key = str(path.resolve())
    with _turns_lock:
        return _turns.setdefault(key, WriterTurns())
