"""Real-time sync: run the engine whenever there is a reason to, on one thread, until stopped.

Reasons: the rep saved something (`poke()`, from any thread), the remote calendar reported a change
(a `ChangeFeed`, e.g. an EWS streaming subscription, watched on its own thread and connection),
or the periodic catch-up pull came due (streaming does not replay what it missed). A server
back-off is honoured whatever the reason; an error only a person can fix (password, certificate,
mailbox) parks the loop until the next poke instead of retrying in a circle.

This is what the GUI's QThread worker and `calendar-app sync --watch` both run; neither needs to
know about timers, back-offs or notification threads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from calendar_app.sync.engine import SyncEngine
from calendar_app.sync.report import SyncProgress, SyncReport

log = logging.getLogger(__name__)

DEFAULT_CATCH_UP_SECONDS = 300.0


class ChangeFeed(Protocol):
    def watch(self, stop: threading.Event, on_change: Callable[[], None]) -> None:
        """Block until `stop` is set, calling `on_change` whenever the remote calendar changes.
        Reconnects by itself after a dropped stream; never raises."""
        ...


class SyncLoop:
    def __init__(
        self,
        engine: SyncEngine,
        *,
        on_report: Callable[[SyncReport], None],
        on_progress: Callable[[SyncProgress], None] | None = None,
        change_feed: ChangeFeed | None = None,
        catch_up_seconds: float = DEFAULT_CATCH_UP_SECONDS,
    ) -> None:
        self._engine = engine
        self._on_report = on_report
        self._on_progress = on_progress
        self._feed = change_feed
        self._catch_up = catch_up_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()

    def poke(self) -> None:
        """Something changed locally (or the rep asked to sync now): sync as soon as allowed."""
        self._wake.set()

    def stop(self) -> None:
        """End `run()` soon: a running request finishes, waits end at once."""
        self._stop.set()
        self._wake.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:
        """The loop itself; returns after `stop()`."""
        feed_thread = None
        if self._feed is not None:
            feed = self._feed
            feed_thread = threading.Thread(target=feed.watch, args=(self._stop, self.poke),
                                           name="calendar-change-feed", daemon=True)
            feed_thread.start()
        try:
            while not self._stop.is_set():
                self._wake.clear()  # a poke from here on triggers the next run
                report = self._engine.run_once(self._stop, self._on_progress)
                self._deliver(report)
                if self._stop.is_set():
                    break
                if report.fatal_error is not None:
                    self._wake.wait()  # parked until someone fixes the settings and pokes
                    continue
                wait = self._catch_up
                if report.retry_after_seconds is not None:
                    # run_once itself waits out the rest of a back-off; wake up to do so
                    wait = min(wait, report.retry_after_seconds)
                self._wake.wait(wait)
        finally:
            self._stop.set()
            if feed_thread is not None:
                feed_thread.join(timeout=5)

    def _deliver(self, report: SyncReport) -> None:
        try:
            self._on_report(report)
        except Exception:  # a broken listener must not end real-time sync
            log.exception("sync report listener failed")
