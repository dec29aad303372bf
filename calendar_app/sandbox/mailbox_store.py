"""The sandbox's mailboxes: folders, items, indexes and the change log, in memory and persisted to the state
folder.

Everything a request needs is indexed, so 10,000 items in a calendar cost no linear scan per request:
items by id; calendar items by start time (CalendarView); extended property values (a restriction such as
IsEqualTo on our local-uuid property); and per folder an append-only change log keyed by a mailbox-wide
sequence number (SyncFolderItems continues from the sequence number inside its SyncState).

One lock guards all mailboxes of a sandbox (an invitation writes to the organizer's and the attendees'
mailboxes at once); operations hold it for the whole request element they process."""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calendar_app.sandbox.stored_item import ExtendedKey, StoredItem, format_datetime, utc_now

# The distinguished folders every sandbox mailbox has: (name, display name, folder class, parent, element).
DISTINGUISHED_FOLDERS: tuple[tuple[str, str, str, str, str], ...] = (
    ("root", "Top of Information Store", "", "", "Folder"),
    ("msgfolderroot", "Top of Information Store", "IPF.Note", "root", "Folder"),
    ("calendar", "Calendar", "IPF.Appointment", "msgfolderroot", "CalendarFolder"),
    ("inbox", "Inbox", "IPF.Note", "msgfolderroot", "Folder"),
    ("sentitems", "Sent Items", "IPF.Note", "msgfolderroot", "Folder"),
    ("deleteditems", "Deleted Items", "IPF.Note", "msgfolderroot", "Folder"),
    ("drafts", "Drafts", "IPF.Note", "msgfolderroot", "Folder"),
)


@dataclass(frozen=True)
class ChangeEvent:
    """What happened to an item, for subscriptions (Created/Modified/Deleted/Moved)."""

    kind: str
    mailbox: str
    folder: str
    item_id: str
    change_key: str
    timestamp: dt.datetime
    old_item_id: str | None = None
    old_folder: str | None = None


@dataclass
class SentMessage:
    """An invitation, update or cancellation the sandbox 'sent' for a mailbox, one per recipient."""

    kind: str  # "invitation" | "update" | "cancellation"
    sender: str
    recipient: str
    subject: str
    item_id: str
    uid: str
    sent_at: dt.datetime


def folder_id_for(mailbox: str, folder: str) -> str:
    return base64.b64encode(f"SBXF{folder}|{mailbox.lower()}".encode()).decode()


def parse_folder_id(folder_id: str) -> tuple[str, str] | None:
    """(mailbox, distinguished name) from a folder id this sandbox issued, else None."""
    try:
        raw = base64.b64decode(folder_id, validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    if not raw.startswith("SBXF") or "|" not in raw:
        return None
    name, mailbox = raw[4:].split("|", 1)
    return mailbox, name


FOLDER_CHANGE_KEY = base64.b64encode(b"FCK\x00\x00\x00\x01").decode()


@dataclass
class Folder:
    name: str
    display_name: str
    folder_class: str
    parent: str
    element_name: str
    items: dict[str, StoredItem] = field(default_factory=dict)
    # SyncFolderItems: (sequence, item id) appended on every change; an entry is current while
    # last_change[item id] equals its sequence.
    change_log: list[tuple[int, str]] = field(default_factory=list)
    last_change: dict[str, int] = field(default_factory=dict)
    created_at: dict[str, int] = field(default_factory=dict)
    tombstones: set[str] = field(default_factory=set)
    # CalendarView: (start, item id) sorted; the longest duration bounds how far back an overlap can start.
    by_start: list[tuple[dt.datetime, str]] = field(default_factory=list)
    longest: dt.timedelta = dt.timedelta(0)
    # Restrictions on extended properties: (key, value) → ids.
    by_extended: dict[tuple[ExtendedKey, str], set[str]] = field(default_factory=dict)

    def index(self, item: StoredItem) -> None:
        start, end = item.start, item.end
        if start is not None:
            bisect.insort(self.by_start, (start, item.item_id))
            if end is not None and end - start > self.longest:
                self.longest = end - start
        for key in item.extended:
            value = item.extended_value(key)
            if value is not None:
                self.by_extended.setdefault((key, value), set()).add(item.item_id)

    def unindex(self, item: StoredItem) -> None:
        start = item.start
        if start is not None:
            position = bisect.bisect_left(self.by_start, (start, item.item_id))
            if position < len(self.by_start) and self.by_start[position] == (start, item.item_id):
                del self.by_start[position]
        for key in item.extended:
            value = item.extended_value(key)
            if value is not None:
                ids = self.by_extended.get((key, value))
                if ids is not None:
                    ids.discard(item.item_id)
                    if not ids:
                        del self.by_extended[(key, value)]

    def overlapping(self, start: dt.datetime, end: dt.datetime) -> Iterator[StoredItem]:
        """Items overlapping [start, end), in start order."""
        low = bisect.bisect_left(self.by_start, (start - self.longest,))
        high = bisect.bisect_left(self.by_start, (end,))
        for item_start, item_id in self.by_start[low:high]:
            item = self.items[item_id]
            item_end = item.end or item_start
            if item_end > start or (item_start == item_end and item_start >= start):
                yield item

    def record_change(self, sequence: int, item_id: str, *, created: bool = False, deleted: bool = False) -> None:
        self.change_log.append((sequence, item_id))
        self.last_change[item_id] = sequence
        if created:
            self.created_at[item_id] = sequence
            self.tombstones.discard(item_id)
        if deleted:
            self.tombstones.add(item_id)

    def changes_since(self, sequence: int) -> Iterator[tuple[int, str, str]]:
        """(sequence, kind, item id) of the net change per item after `sequence`, oldest first:
        Create for items new since then, Update for older ones, Delete for removed older ones."""
        position = bisect.bisect_right(self.change_log, (sequence, "\uffff"))
        for entry_sequence, item_id in self.change_log[position:]:
            if self.last_change.get(item_id) != entry_sequence:
                continue  # superseded by a later change of the same item
            is_new = self.created_at.get(item_id, 0) > sequence
            if item_id in self.tombstones:
                if not is_new:
                    yield entry_sequence, "Delete", item_id
            elif is_new:
                yield entry_sequence, "Create", item_id
            else:
                yield entry_sequence, "Update", item_id


class Mailbox:
    def __init__(self, address: str, display_name: str, lock: threading.RLock | None = None) -> None:
        self.address = address
        self.display_name = display_name
        self.lock = lock if lock is not None else threading.RLock()
        self.folders: dict[str, Folder] = {
            name: Folder(name, display, folder_class, parent, element)
            for name, display, folder_class, parent, element in DISTINGUISHED_FOLDERS
        }
        self.sequence = 0
        self.sent: list[SentMessage] = []
        self.listeners: list[Callable[[ChangeEvent], None]] = []
        self.dirty = False

    # ---------------------------------------------------------------- lookups
    def folder(self, name: str) -> Folder | None:
        return self.folders.get(name)

    def find_item(self, item_id: str) -> StoredItem | None:
        for folder in self.folders.values():
            item = folder.items.get(item_id)
            if item is not None:
                return item
        return None

    def folder_id(self, name: str) -> str:
        return folder_id_for(self.address, name)

    def next_sequence(self) -> int:
        self.sequence += 1
        return self.sequence

    # ---------------------------------------------------------------- changes
    def add(self, item: StoredItem, *, notify: bool = True, delivered: bool = False) -> None:
        """Store a new item; `delivered` marks mail arriving from outside (a NewMailEvent as well)."""
        folder = self.folders[item.folder]
        folder.items[item.item_id] = item
        folder.index(item)
        folder.record_change(self.next_sequence(), item.item_id, created=True)
        self.dirty = True
        if notify:
            self._publish("CreatedEvent", item)
            if delivered:
                self._publish("NewMailEvent", item)

    def replace(self, item: StoredItem, mutate: Callable[[StoredItem], None]) -> None:
        """Apply `mutate` to an item in place, keeping the indexes right, and give it a new change key."""
        folder = self.folders[item.folder]
        folder.unindex(item)
        mutate(item)
        item.version += 1
        folder.index(item)
        folder.record_change(self.next_sequence(), item.item_id)
        self.dirty = True
        self._publish("ModifiedEvent", item)

    def remove(self, item: StoredItem) -> None:
        folder = self.folders[item.folder]
        folder.unindex(item)
        del folder.items[item.item_id]
        folder.record_change(self.next_sequence(), item.item_id, deleted=True)
        self.dirty = True
        self._publish("DeletedEvent", item)

    def move(self, item: StoredItem, target: str, new_id: str) -> StoredItem:
        """Move to another folder; like Exchange the moved item gets a new id."""
        source = self.folders[item.folder]
        source.unindex(item)
        del source.items[item.item_id]
        source.record_change(self.next_sequence(), item.item_id, deleted=True)
        moved = StoredItem(new_id, target, item.item_type, item.elements, item.extended, item.version + 1,
                           dict(item.field_versions), item.created)
        destination = self.folders[target]
        destination.items[new_id] = moved
        destination.index(moved)
        destination.record_change(self.next_sequence(), new_id, created=True)
        self.dirty = True
        event = ChangeEvent("MovedEvent", self.address, target, new_id, moved.change_key, utc_now(),
                            old_item_id=item.item_id, old_folder=item.folder)
        for listener in list(self.listeners):
            listener(event)
        return moved

    def _publish(self, kind: str, item: StoredItem) -> None:
        event = ChangeEvent(kind, self.address, item.folder, item.item_id, item.change_key, utc_now())
        for listener in list(self.listeners):
            listener(event)

    # ---------------------------------------------------------------- persistence
    def to_storage(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "display_name": self.display_name,
            "sequence": self.sequence,
            "items": [item.to_storage() for folder in self.folders.values() for item in folder.items.values()],
            "logs": {
                name: {
                    "log": folder.change_log, "created": folder.created_at, "tombstones": sorted(folder.tombstones),
                }
                for name, folder in self.folders.items()
            },
            "sent": [
                {"kind": s.kind, "sender": s.sender, "recipient": s.recipient, "subject": s.subject,
                 "item_id": s.item_id, "uid": s.uid, "sent_at": format_datetime(s.sent_at)}
                for s in self.sent
            ],
        }

    def load_storage(self, data: dict[str, Any]) -> None:
        from calendar_app.sandbox.stored_item import parse_datetime

        self.sequence = int(data.get("sequence", 0))
        for record in data.get("items", []):
            item = StoredItem.from_storage(record)
            folder = self.folders.get(item.folder)
            if folder is not None:
                folder.items[item.item_id] = item
                folder.index(item)
        for name, state in data.get("logs", {}).items():
            folder = self.folders.get(name)
            if folder is None:
                continue
            folder.change_log = [(int(s), str(i)) for s, i in state.get("log", [])]
            folder.last_change = {item_id: sequence for sequence, item_id in folder.change_log}
            folder.created_at = {str(k): int(v) for k, v in state.get("created", {}).items()}
            folder.tombstones = set(state.get("tombstones", []))
        self.sent = [
            SentMessage(s["kind"], s["sender"], s["recipient"], s["subject"], s["item_id"], s["uid"],
                        parse_datetime(s["sent_at"]))
            for s in data.get("sent", [])
        ]


class MailboxStore:
    """All mailboxes of one sandbox, persisted as one JSON file per mailbox in `<state>/mailboxes/`."""

    def __init__(self, state_dir: Path | None) -> None:
        self.state_dir = state_dir
        self.mailboxes: dict[str, Mailbox] = {}
        self.lock = threading.RLock()

    def ensure(self, address: str, display_name: str) -> Mailbox:
        key = address.lower()
        mailbox = self.mailboxes.get(key)
        if mailbox is None:
            mailbox = Mailbox(address, display_name, self.lock)
            path = self._path(address)
            if path is not None and path.exists():
                mailbox.load_storage(json.loads(path.read_text(encoding="utf-8")))
            self.mailboxes[key] = mailbox
        return mailbox

    def get(self, address: str) -> Mailbox | None:
        return self.mailboxes.get(address.lower())

    def save(self, *, only_dirty: bool = True) -> None:
        if self.state_dir is None:
            return
        for mailbox in list(self.mailboxes.values()):
            with mailbox.lock:
                if only_dirty and not mailbox.dirty:
                    continue
                data = json.dumps(mailbox.to_storage())
                mailbox.dirty = False
            path = self._path(mailbox.address)
            assert path is not None
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".tmp")
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(data)
            temporary.replace(path)

    def _path(self, address: str) -> Path | None:
        if self.state_dir is None:
            return None
        safe = "".join(c if c.isalnum() or c in "@.-_" else "_" for c in address.lower())
        return self.state_dir / "mailboxes" / f"{safe}.json"
