"""Reads neighbouring ranges (the previous and next week or month) on a worker thread while the
rep looks at the current one, so Today/previous/next only has to lay out and paint.

Correctness first: when an appointment changes, the ranges already read get that one item
patched in (or out), and a read still running is thrown away when it arrives, since it may
predate the change (generation check). The store gives
each thread its own SQLite connection; WAL lets these reads run beside the sync thread's writes.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import datetime

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from calendar_app.services.calendar_service import CalendarService
from calendar_app.store import StoredAppointment, StoreError

log = logging.getLogger(__name__)
MAX_CACHED_RANGES = 6

Range = tuple[datetime, datetime]


class _Signals(QObject):
    loaded = Signal(object, int, object)  # range, generation, rows


class _ReadRange(QRunnable):
    def __init__(self, service: CalendarService, wanted: Range, generation: int, signals: _Signals) -> None:
        super().__init__()
        self._service, self._wanted, self._generation, self._signals = service, wanted, generation, signals

    def run(self) -> None:
        try:
            rows = self._service.list_range(*self._wanted)
        except StoreError as error:  # the GUI reads it itself when needed, and reports there
            log.info("prefetch of %s failed: %s", self._wanted, error)
            rows = None
        self._signals.loaded.emit(self._wanted, self._generation, rows)


class RangeLoader(QObject):
    def __init__(self, service: CalendarService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
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
            self._pool.start(_ReadRange(self._service, wanted, self.generation, self._signals))

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
        """For shutdown and tests: let running reads finish."""
        self._pool.waitForDone()

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
