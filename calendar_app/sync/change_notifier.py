"""How the engine hears that the remote calendar changed, without asking it every few seconds.

`exchange/` implements `ChangeNotifier` with an EWS streaming subscription on its own connection;
`InMemoryChangeNotifier` watches the in-memory fake. Both are Qt-free and block only the thread
that calls `wait_for_change` (the sync thread), never the GUI.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

from calendar_app.sync.in_memory_remote import InMemoryRemoteCalendar


class ChangeNotifier(Protocol):
    def wait_for_change(self, timeout: float, cancel_event: threading.Event) -> bool:
        """Block until the remote calendar reports a change since the last call returned True (→ True),
        or `timeout` seconds pass, or `cancel_event` is set (→ False). A notifier that has lost its
        connection returns True now and then, so a periodic pull covers the gap."""
        ...

    def close(self) -> None:
        """Stop listening and release the connection. Idempotent."""
        ...


class NoChangeNotifier:
    """For a remote without notifications: only the periodic pull finds changes."""

    def wait_for_change(self, timeout: float, cancel_event: threading.Event) -> bool:
        cancel_event.wait(timeout)
        return False

    def close(self) -> None:
        return None


class InMemoryChangeNotifier:
    """Watches the fake's items (id and change key of each) for any change by anyone."""

    def __init__(self, remote: InMemoryRemoteCalendar, *, poll_seconds: float = 0.02) -> None:
        self._remote = remote
        self._poll = poll_seconds
        self._seen = self._state()
        self._closed = False

    def _state(self) -> frozenset[tuple[str, str]]:
        return frozenset((item.item_id, item.change_key) for item in self._remote.items())

    def wait_for_change(self, timeout: float, cancel_event: threading.Event) -> bool:
        deadline = time.monotonic() + timeout
        while not self._closed:
            state = self._state()
            if state != self._seen:
                self._seen = state
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0 or cancel_event.wait(min(self._poll, remaining)):
                return False
        return False

    def close(self) -> None:
        self._closed = True
