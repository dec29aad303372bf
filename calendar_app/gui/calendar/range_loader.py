"""Reads neighbouring ranges (the previous and next week or month) on a worker thread while the
rep looks at the current one, so Today/previous/next only has to lay out and paint.

Correctness first: when an appointment changes, the ranges already read get that one item
patched in (or out), and a read still running is thrown away when it arrives, since it may
predate the change (generation check).

The reads run on one long-lived Python thread, not on a QThreadPool: the store gives each
thread its own SQLite connection (WAL lets these reads run beside the sync thread's writes) and
keeps it in a `threading.local`, which Python forgets every time a Qt pool thread finishes a
task. With a pool, every read opened a connection that was never closed: measured, 181
connections and 470 MB after paging 60 weeks.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import OrderedDict
from datetime import datetime

from PySide6.QtCore import QObject, Signal

from calendar_app.services.calendar_service import CalendarService
from calendar_app.store import StoredAppointment, StoreError

log = logging.getLogger(__name__)
MAX_CACHED_RANGES = 6

Range = tuple[datetime, datetime]
_STOP = None


class _Signals(QObject):
    loaded = Signal(object, int, object)  # range, generation, rows


class RangeLoader(QObject):
    def __init__(self, service: CalendarService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._requests: queue.Queue[tuple[Range, int] | None] = queue.Queue()
        self._reader: threading.Thread | None = None  # started by the first prefetch
        self._signals = _Signals(self)
        self._signals.loaded.connect(self._loaded)
        self._cache: OrderedDict[Range, list[StoredAppointment]] = OrderedDict()
        self._in_flight: set[Range] = set()
        self.generation = 0

    def take(self, wanted: Range) -> list[StoredAppointment] | None:
        """The rows of `wanted` if it, or a range holding it (a week inside a month), was read."""
        rows = self._cache.get(wanted)
        if rows is not None:
            self._cache.move_to_end(wanted)
            return rows
        start, end = wanted
        for (cached_start, cached_end), cached in self._cache.items():
            if cached_start <= start and cached_end >= end:
                return [s for s in cached if s.appointment.start < end and s.appointment.end > start]
        return None

    def remember(self, wanted: Range, rows: list[StoredAppointment]) -> None:
        """A range the GUI thread has just read itself (kept current by apply_change like the rest)."""
        self._cache[wanted] = list(rows)
        self._trim()

    def covers(self, wanted: Range) -> bool:
        return any(s <= wanted[0] and e >= wanted[1] for s, e in list(self._cache) + list(self._in_flight))

    def prefetch(self, ranges: list[Range]) -> None:
        for wanted in ranges:
            if self.covers(wanted):
                continue
            self._in_flight.add(wanted)
            if self._reader is None:
                self._reader = threading.Thread(target=self._read_until_stopped, name="calendar-range-reader",
                                                daemon=True)
                self._reader.start()
            self._requests.put((wanted, self.generation))

    def apply_change(self, uuid: str, stored: StoredAppointment | None) -> None:
        """Patch one appointment's new state (None = gone) into every cached range."""
        self.generation += 1
        self._in_flight.clear()
        for (start, end), rows in self._cache.items():
            kept = [s for s in rows if s.appointment.uuid != uuid]
            if stored is not None and stored.appointment.start < end and stored.appointment.end > start:
                kept.append(stored)
            rows[:] = kept  # order does not matter: the model sorts what it shows

    def invalidate(self) -> None:
        self.generation += 1
        self._cache.clear()
        self._in_flight.clear()

    def wait(self) -> None:
        """For tests and benchmarks: let the reads asked for so far finish (their results are
        delivered to the GUI thread by its event loop)."""
        self._requests.join()

    def stop(self, timeout_seconds: float = 5.0) -> None:
        """On closing the window: finish the reads asked for, then end the reader thread and
        close its connection. Nothing is emitted after this returns (unless a read outlives the timeout)."""
        if self._reader is None:
            return
        self._requests.put(_STOP)
        self._reader.join(timeout_seconds)
        self._reader = None

    def _read_until_stopped(self) -> None:
        try:
            while True:
                request = self._requests.get()
                try:
                    if request is None:  # _STOP
                        return
                    wanted, generation = request
                    try:
                        rows: list[StoredAppointment] | None = self._service.list_range(*wanted)
                    except StoreError as error:  # the GUI reads it itself when needed, and reports there
                        log.info("prefetch of %s failed: %s", wanted, error)
                        rows = None
                    self._signals.loaded.emit(wanted, generation, rows)
                finally:
                    self._requests.task_done()
        finally:
            self._service.close_connection_of_this_thread()

    def _loaded(self, wanted: Range, generation: int, rows: list[StoredAppointment] | None) -> None:
        if generation != self.generation:
            return  # something changed while it was being read: it may be stale
        self._in_flight.discard(wanted)
        if rows is None:
            return
        self._cache[wanted] = rows
        self._trim()

    def _trim(self) -> None:
        while len(self._cache) > MAX_CACHED_RANGES:
            self._cache.popitem(last=False)
