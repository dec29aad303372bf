"""The sync engine: pure Python over a RemoteCalendar protocol (no Qt, no exchangelib).

`SyncEngine.run_once(cancel_event, on_progress) -> SyncReport` is the one entry point a sync
thread (the GUI's QThread worker) or the CLI calls; see `engine.py`.
"""

from calendar_app.sync.engine import SyncEngine
from calendar_app.sync.merge import ConflictPolicy
from calendar_app.sync.report import ItemFailure, SyncProgress, SyncReport

__all__ = ["ConflictPolicy", "ItemFailure", "SyncEngine", "SyncProgress", "SyncReport"]
