"""Exchange's streaming notifications as a ChangeFeed: wake a pull within a second of a change.

The stream holds an HTTP connection for minutes, so it must run on its own `Account` whose
configuration allows at least two connections (a save must never wait behind the stream). Streaming
does not replay what happened while we were not subscribed: after every (re)subscription the feed
reports a change once, so the engine's incremental pull catches up on the gap.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from exchangelib import Account
from exchangelib.properties import CopiedEvent, CreatedEvent, DeletedEvent, ModifiedEvent, MovedEvent

from calendar_app.domain.remote_errors import ErrorScope
from calendar_app.exchange.error_translation import translate

log = logging.getLogger(__name__)

_ITEM_EVENTS = (CreatedEvent, ModifiedEvent, DeletedEvent, MovedEvent, CopiedEvent)
_EVENT_TYPES = ("CopiedEvent", "CreatedEvent", "DeletedEvent", "ModifiedEvent", "MovedEvent")
MAX_RECONNECT_DELAY = 60.0
FATAL_RECONNECT_DELAY = 300.0


class ExchangeChangeFeed:
    def __init__(self, account: Account, *, connection_minutes: int = 5) -> None:
        self._account = account
        self._connection_minutes = connection_minutes

    def watch(self, stop: threading.Event, on_change: Callable[[], None]) -> None:
        """Until `stop` is set: subscribe, stream, call `on_change` for each batch of item events,
        and reconnect after the stream closes or fails (with a growing delay). Never raises: a
        failure here only delays real-time updates; the periodic catch-up pull still runs.
        `stop` is noticed at the next notification or keep-alive from the server."""
        failures = 0
        while not stop.is_set():
            try:
                calendar = self._account.calendar
                subscription_id = calendar.subscribe_to_streaming(event_types=_EVENT_TYPES)
                on_change()  # whatever changed while we were not listening (before the first subscription too)
                failures = 0
                try:
                    self._stream(calendar, subscription_id, stop, on_change)
                finally:
                    with contextlib.suppress(Exception):  # the subscription expires on its own anyway
                        calendar.unsubscribe(subscription_id)
            except Exception as error:  # every failure becomes a reconnect
                failures += 1
                typed = translate(error, changes_server=False)
                delay = (FATAL_RECONNECT_DELAY if typed.scope is ErrorScope.FATAL
                         else min(MAX_RECONNECT_DELAY, 2.0 ** failures))
                log.warning("change notifications interrupted (%s); reconnecting in %.0f s", typed, delay)
                stop.wait(delay)

    def _stream(self, calendar: Any, subscription_id: str, stop: threading.Event,
                on_change: Callable[[], None]) -> None:
        for notification in calendar.get_streaming_events(subscription_id,
                                                          connection_timeout=self._connection_minutes):
            if stop.is_set():
                return
            if any(isinstance(event, _ITEM_EVENTS) for event in notification.events):
                on_change()
