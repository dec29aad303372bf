"""Event subscriptions: pull (GetEvents with watermarks) and streaming (GetStreamingEvents).

Mailboxes publish ChangeEvents; each subscription keeps the events for its folders and event types, numbered
by a watermark. Streaming readers wait on a condition until events arrive or the connection times out."""

from __future__ import annotations

import base64
import datetime as dt
import struct
import threading
import uuid
from dataclasses import dataclass, field

from calendar_app.sandbox.mailbox_store import ChangeEvent


def encode_watermark(sequence: int) -> str:
    return base64.b64encode(b"SBXW" + struct.pack(">Q", sequence)).decode()


def decode_watermark(text: str) -> int | None:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        return None
    if len(raw) != 12 or not raw.startswith(b"SBXW"):
        return None
    return int(struct.unpack(">Q", raw[4:])[0])


@dataclass
class Subscription:
    subscription_id: str
    mailbox: str
    owner: str  # the account that created it: only it may read it
    folders: frozenset[str] | None  # None: all folders
    event_types: frozenset[str]
    kind: str  # "pull" | "streaming" | "push"
    timeout_minutes: int = 30
    events: list[tuple[int, ChangeEvent]] = field(default_factory=list)
    next_watermark: int = 1
    last_read: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def wants(self, event: ChangeEvent) -> bool:
        if event.mailbox.lower() != self.mailbox.lower() or event.kind not in self.event_types:
            return False
        if self.folders is None:
            return True
        return event.folder in self.folders or (event.old_folder is not None and event.old_folder in self.folders)


class NotificationHub:
    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._subscriptions: dict[str, Subscription] = {}
        self.closed = False

    def subscribe(self, *, mailbox: str, owner: str, folders: frozenset[str] | None, event_types: frozenset[str],
                  kind: str, timeout_minutes: int = 30) -> Subscription:
        subscription = Subscription(str(uuid.uuid4()), mailbox, owner, folders, event_types, kind, timeout_minutes)
        with self._condition:
            self._subscriptions[subscription.subscription_id] = subscription
        return subscription

    def get(self, subscription_id: str) -> Subscription | None:
        with self._condition:
            return self._subscriptions.get(subscription_id)

    def unsubscribe(self, subscription_id: str) -> bool:
        with self._condition:
            removed = self._subscriptions.pop(subscription_id, None) is not None
            self._condition.notify_all()
        return removed

    def publish(self, event: ChangeEvent) -> None:
        with self._condition:
            for subscription in self._subscriptions.values():
                if subscription.wants(event):
                    subscription.events.append((subscription.next_watermark, event))
                    subscription.next_watermark += 1
            self._condition.notify_all()

    def pull(self, subscription: Subscription, after: int) -> tuple[list[tuple[int, ChangeEvent]], int]:
        """Events after watermark `after` (and forget older ones: the client has acknowledged them)."""
        with self._condition:
            subscription.events = [entry for entry in subscription.events if entry[0] > after]
            subscription.last_read = dt.datetime.now(dt.UTC)
            return list(subscription.events), subscription.next_watermark - 1

    def wait_streaming(self, subscription_ids: list[str], timeout: float) -> list[tuple[Subscription, ChangeEvent]]:
        """Block until one of the subscriptions has events (taking them) or `timeout` seconds pass."""
        with self._condition:
            self._condition.wait_for(lambda: self.closed or any(
                (s := self._subscriptions.get(i)) is None or s.events for i in subscription_ids), timeout=timeout)
            taken: list[tuple[Subscription, ChangeEvent]] = []
            for subscription_id in subscription_ids:
                subscription = self._subscriptions.get(subscription_id)
                if subscription is None:
                    continue
                taken.extend((subscription, event) for _, event in subscription.events)
                subscription.events = []
            return taken

    def is_active(self, subscription_id: str) -> bool:
        with self._condition:
            return not self.closed and subscription_id in self._subscriptions

    def close(self) -> None:
        with self._condition:
            self.closed = True
            self._condition.notify_all()
