"""EWS streaming notifications for the calendar folder, on a connection of their own.

A listener thread subscribes (Subscribe/StreamingSubscriptionRequest) and holds a GetStreamingEvents
request open; each Created/Modified/Deleted/Moved event sets a flag that `wait_for_change` returns.
When Exchange closes the stream (its connection timeout, a restart, a network cut) the listener
opens it again — re-subscribing when the subscription is gone — and reports a change, because
events of the gap are not replayed. While no stream can be opened it backs off (1 s doubling to a
minute) and `wait_for_change` returns True every `fallback_pull_seconds`: a periodic pull.

It implements `calendar_app.sync.change_notifier.ChangeNotifier`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable

from exchangelib import Account
from exchangelib.properties import CreatedEvent, DeletedEvent, ModifiedEvent, MovedEvent

from calendar_app.exchange.account_factory import close_account
from calendar_app.exchange.error_translation import translate

log = logging.getLogger(__name__)

CHANGE_EVENTS = (CreatedEvent, ModifiedEvent, DeletedEvent, MovedEvent)
EVENT_TYPES = ("CreatedEvent", "ModifiedEvent", "DeletedEvent", "MovedEvent")
MAX_RECONNECT_DELAY = 60.0


class StreamingChangeNotifier:
    """`make_account` builds the listener's own Account (its own HTTP sessions, so a stream never
    holds a connection a save needs). The listener starts at once."""

    def __init__(self, make_account: Callable[[], Account], *, connection_minutes: int = 1,
                 fallback_pull_seconds: float = 30.0) -> None:
        self._make_account = make_account
        self._connection_minutes = max(1, connection_minutes)
        self._fallback = fallback_pull_seconds
        self._changed = threading.Event()
        self._stopping = threading.Event()
        self._connected = threading.Event()
        self._last_fallback = time.monotonic()
        self._account: Account | None = None
        self._subscription: str | None = None
        self.last_error: str | None = None
        self.reconnects = 0
        self._thread = threading.Thread(target=self._listen, name="ews-streaming", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ ChangeNotifier
    def wait_for_change(self, timeout: float, cancel_event: threading.Event) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            if self._changed.is_set():
                self._changed.clear()
                return True
            now = time.monotonic()
            if not self._connected.is_set() and now - self._last_fallback >= self._fallback:
                self._last_fallback = now
                return True
            remaining = deadline - now
            if remaining <= 0 or cancel_event.is_set() or self._stopping.is_set():
                return False
            # short slices: the cancel event and the change flag are two things to wait for
            if self._changed.wait(min(0.05, remaining)):
                continue

    def close(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        account, subscription = self._account, self._subscription
        if account is not None and subscription is not None:
            # Unsubscribing ends the open stream on the server's side.
            with contextlib.suppress(Exception):
                account.calendar.unsubscribe(subscription)
        self._thread.join(timeout=3)
        if account is not None:
            with contextlib.suppress(Exception):
                close_account(account)

    @property
    def subscription_id(self) -> str | None:
        return self._subscription

    @property
    def is_streaming(self) -> bool:
        return self._connected.is_set()

    def wait_until_streaming(self, timeout: float) -> bool:
        """For tests and diagnostics: True once a stream is open."""
        return self._connected.wait(timeout)

    # ------------------------------------------------------------------ the listener thread
    def _listen(self) -> None:
        delay = 1.0
        while not self._stopping.is_set():
            try:
                if self._account is None:
                    self._account = self._make_account()
                calendar = self._account.calendar
                if self._subscription is None:
                    self._subscription = calendar.subscribe_to_streaming(event_types=EVENT_TYPES)
                    if self.reconnects:
                        self._changed.set()  # the gap is not replayed: let a pull catch up
                self._stream(calendar)
                delay = 1.0
            except Exception as error:
                self._connected.clear()
                if self._stopping.is_set():
                    break
                self._subscription = None  # start over: the subscription may be gone
                try:
                    reason = str(translate(error, changes_server=False))
                except Exception:
                    reason = f"{type(error).__name__}: {error}"
                self.last_error = reason
                log.info("streaming notifications unavailable (%s); retrying in %.0f s", reason, delay)
                self.reconnects += 1
                if self._stopping.wait(delay):
                    break
                delay = min(MAX_RECONNECT_DELAY, delay * 2)
        self._connected.clear()

    def _stream(self, calendar: object) -> None:
        assert self._subscription is not None
        self._connected.set()
        log.debug("streaming notifications open")
        for notification in calendar.get_streaming_events(  # type: ignore[attr-defined]
                self._subscription, connection_timeout=self._connection_minutes):
            if any(isinstance(event, CHANGE_EVENTS) for event in notification.events):
                self._changed.set()
            if self._stopping.is_set():
                return
        # The server closed the stream (its connection timeout): reopen it with the same
        # subscription, which keeps the events that arrive in between.
        self._connected.clear()
