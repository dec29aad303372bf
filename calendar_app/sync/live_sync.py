"""Keep one calendar in sync in real time: push local edits at once, pull when the remote says it
changed, and catch up periodically for anything a notification missed.

The loop runs on the sync thread (the GUI controller's worker, or `calendar-app sync --watch`) until
`cancel_event` is set; it never raises (run_once does not) and reports every run to `on_report`.
Local edits are noticed through `local_change` (set it after saving; the GUI does) or, for edits
made by another process, through `has_local_work` polled every `local_poll_seconds`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from calendar_app.sync.change_notifier import ChangeNotifier
from calendar_app.sync.engine import SyncEngine
from calendar_app.sync.report import SyncReport

ReportCallback = Callable[[SyncReport], None]


def run_live(
    engine: SyncEngine,
    notifier: ChangeNotifier,
    cancel_event: threading.Event,
    *,
    local_change: threading.Event | None = None,
    has_local_work: Callable[[], bool] | None = None,
    on_report: ReportCallback | None = None,
    catch_up_seconds: float = 300.0,
    local_poll_seconds: float = 0.25,
) -> int:
    """Returns the number of sync runs made."""
    local = local_change or threading.Event()
    runs = 0
    last_run = float("-inf")
    run_now = False
    while not cancel_event.is_set():
        now = time.monotonic()
        due = now - last_run >= catch_up_seconds
        if run_now or due or local.is_set() or (has_local_work is not None and has_local_work()):
            local.clear()
            report = engine.run_once(cancel_event)
            runs += 1
            last_run = time.monotonic()
            run_now = False
            if on_report is not None:
                on_report(report)
            continue
        wait = min(local_poll_seconds, max(0.0, catch_up_seconds - (now - last_run)))
        # The notifier's wait ends early on the local-change event, so a save is pushed at once
        # rather than after the rest of the wait (benchmark 1 found up to `local_poll_seconds` of
        # extra push latency); a stop request is seen within one wait, at most `local_poll_seconds`.
        run_now = notifier.wait_for_change(wait, local)
    return runs
