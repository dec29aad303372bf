"""The rep's Exchange calendar folder as the sync engine's `RemoteCalendar` (sync/remote_calendar.py).

One request per method where Exchange allows it; every exchangelib exception leaves as one of our
typed errors (error_translation.py). Writes send exactly what the engine asks for: an update carries
only the named fields, the last change key and NeverOverwrite, and says who hears about it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from exchangelib import Account, CalendarItem
from exchangelib.items import (
    ALL_OCCURRENCES,
    ID_ONLY,
    NEVER_OVERWRITE,
    SEND_TO_ALL_AND_SAVE_COPY,
    SEND_TO_NONE,
)
from exchangelib.properties import ItemId
from exchangelib.services import SyncFolderItems

from calendar_app.domain.appointment import Appointment
from calendar_app.domain.remote_errors import ItemGone, ItemRejected
from calendar_app.domain.remote_items import (
    ChangeKind,
    ChangePage,
    ItemVersion,
    LeftAlone,
    RemoteChange,
    RemoteItem,
    SendTo,
)
from calendar_app.exchange.account_factory import format_server_version
from calendar_app.exchange.error_translation import translate, translated
from calendar_app.exchange.item_mapping import (
    LOCAL_UUID_FIELD,
    READ_FIELDS,
    apply_appointment,
    item_field_names,
    new_calendar_item,
    readable_remote_item,
)

log = logging.getLogger(__name__)

_SEND_TO: dict[SendTo, str] = {
    SendTo.NOBODY: SEND_TO_NONE,
    SendTo.CHANGED_ATTENDEES: "SendToChangedAndSaveCopy",
    SendTo.ALL_ATTENDEES: SEND_TO_ALL_AND_SAVE_COPY,
}
_SKIPPED_TYPES = frozenset({"RecurringMaster", "Occurrence", "Exception"})


class _IdOnlySyncFolderItems(SyncFolderItems):
    """SyncFolderItems that reads only the item ids from each change. exchangelib builds a whole
    CalendarItem from every Create/Update element even when the shape is IdOnly (measured: about
    1 s of a 5,000-item first sync, a third of the listing); the items are fetched by GetItem anyway."""

    def _elem_to_obj(self, elem: Any) -> tuple[str, Any]:
        change_type = self.change_types_map[elem.tag]
        if change_type in (self.CREATE, self.UPDATE):
            item_id, _change_key = CalendarItem.id_from_xml(elem[0])
            return change_type, item_id
        if change_type == self.DELETE:
            return change_type, elem.find(ItemId.response_tag()).get(ItemId.ID_ATTR)
        return change_type, super()._elem_to_obj(elem)[1]


class ExchangeCalendar:
    """`account` is an exchangelib Account for the rep's mailbox (account_factory.make_account);
    `local_zone` is the zone for items whose zone Exchange does not tell (the rep's own)."""

    def __init__(self, account: Account, *, local_zone: str = "UTC") -> None:
        self._account = account
        self._local_zone = local_zone
        self._calendar_lock = threading.Lock()
        self._calendar: Any = None

    # ------------------------------------------------------------------ connection facts
    @property
    def account(self) -> Account:
        return self._account

    def server_version(self) -> str:
        """'build|api_version' of the server, for pinning in the settings (costs a request the first time)."""
        with translated(changes_server=False):
            return format_server_version(self._account.version)

    def check_connection(self) -> None:
        """One cheap round trip that proves TLS, sign-in and mailbox access (GetFolder of the calendar)."""
        self._folder()

    def _folder(self) -> Any:
        with self._calendar_lock:
            if self._calendar is None:
                with translated(changes_server=False):
                    self._calendar = self._account.calendar
            return self._calendar

    # ------------------------------------------------------------------ RemoteCalendar
    def create(self, appointment: Appointment, *, send_invitations: bool) -> ItemVersion:
        item = new_calendar_item(self._account, appointment, self._folder())
        mode = SEND_TO_ALL_AND_SAVE_COPY if send_invitations and appointment.has_attendees else SEND_TO_NONE
        with translated(changes_server=True):
            item.save(send_meeting_invitations=mode)
        return ItemVersion(item.id, item.changekey)

    def find_by_local_uuid(self, local_uuid: str) -> RemoteItem | None:
        folder = self._folder()
        with translated(changes_server=False):
            found = list(folder.filter(**{LOCAL_UUID_FIELD: local_uuid}).only(*READ_FIELDS))
        # An unreadable copy of our own item must not read as "not there": that would send it again.
        items = [readable_remote_item(i, self._local_zone) for i in found if isinstance(i, CalendarItem)]
        return items[0] if items else None

    def get(self, item_id: str) -> RemoteItem:
        return self._fetch([item_id])[item_id]

    def update(self, item_id: str, change_key: str, appointment: Appointment, fields: Sequence[str], *,
               send_to: SendTo) -> ItemVersion:
        item = self._handle(item_id, change_key)
        apply_appointment(item, appointment, fields)
        with translated(changes_server=True):
            item.save(update_fields=item_field_names(fields), conflict_resolution=NEVER_OVERWRITE,
                      send_meeting_invitations=_SEND_TO[send_to])
        return ItemVersion(item.id, item.changekey)

    def cancel_meeting(self, item_id: str, change_key: str) -> None:
        item = self._handle(item_id, change_key)
        with translated(changes_server=True):
            item.cancel()

    def move_to_deleted_items(self, item_id: str) -> None:
        item = self._handle(item_id, None)
        with translated(changes_server=True):
            item.move_to_trash(send_meeting_cancellations=SEND_TO_NONE, affected_task_occurrences=ALL_OCCURRENCES)

    def sync_changes(self, sync_state: str | None, *, max_changes: int) -> ChangePage:
        folder = self._folder()
        service = _IdOnlySyncFolderItems(account=self._account)
        with translated(changes_server=False):
            answers = list(service.call(folder=folder, shape=ID_ONLY, additional_fields=set(),
                                        sync_state=sync_state or None, ignore=None,
                                        max_changes_returned=max_changes, sync_scope=None))
        kinds: dict[str, ChangeKind] = {}
        for change_type, payload in answers:
            if isinstance(payload, Exception):
                raise translate(payload, changes_server=False) from payload
            if change_type == SyncFolderItems.DELETE:
                kinds[payload] = ChangeKind.DELETED
            elif change_type in (SyncFolderItems.CREATE, SyncFolderItems.UPDATE):
                kinds[payload] = ChangeKind.CREATED if change_type == SyncFolderItems.CREATE else ChangeKind.UPDATED
        self._skipped = {}
        fetched = self._fetch([i for i, k in kinds.items() if k is not ChangeKind.DELETED], missing_ok=True,
                              skip_series=True)
        changes: list[RemoteChange] = []
        for item_id, kind in kinds.items():
            if kind is ChangeKind.DELETED:
                changes.append(RemoteChange(ChangeKind.DELETED, item_id, None))
            elif item_id in fetched:
                changes.append(RemoteChange(kind, item_id, fetched[item_id]))
            elif kind is ChangeKind.UPDATED and item_id not in self._skipped:
                # changed, then removed before we could read it: the removal is what counts
                changes.append(RemoteChange(ChangeKind.DELETED, item_id, None))
        more = service.includes_last_item_in_range is False and service.sync_state != sync_state
        left_alone = tuple(LeftAlone(item_id, reason) for item_id, reason in self._skipped.items()
                           if kinds.get(item_id, ChangeKind.DELETED) is not ChangeKind.DELETED)
        return ChangePage(tuple(changes), service.sync_state or "", more, left_alone)

    # ------------------------------------------------------------------ helpers
    # The items the last _fetch passed over, with the reason when it is one the rep should hear.
    _skipped: dict[str, str | None] = {}  # noqa: RUF012 (replaced, never mutated, per fetch)

    def _handle(self, item_id: str, change_key: str | None) -> CalendarItem:
        """An item object that names the server's item (and the version we last saw) without fetching it."""
        item = CalendarItem(account=self._account, folder=self._folder())
        item._id = ItemId(item_id, change_key)
        return item

    def _fetch(self, item_ids: list[str], *, missing_ok: bool = False, skip_series: bool = False
               ) -> dict[str, RemoteItem]:
        if not item_ids:
            return {}
        folder = self._folder()
        with translated(changes_server=False):
            answers = list(self._account.fetch(ids=[(i, None) for i in item_ids], folder=folder,
                                               only_fields=list(READ_FIELDS)))
        result: dict[str, RemoteItem] = {}
        skipped: dict[str, str | None] = {}
        for item_id, answer in zip(item_ids, answers, strict=True):
            if isinstance(answer, Exception):
                error = translate(answer, changes_server=False)
                if isinstance(error, ItemGone) and missing_ok:
                    continue
                raise error from answer
            if not isinstance(answer, CalendarItem):
                skipped[item_id] = None
                continue
            if skip_series and answer.type in _SKIPPED_TYPES:
                # recurring series are not part of the domain yet: leave them to Outlook
                log.info("skipping recurring item %s", item_id)
                skipped[item_id] = None
                continue
            try:
                result[item_id] = readable_remote_item(answer, self._local_zone)
            except ItemRejected as error:
                if not missing_ok:
                    raise
                # A pull leaves such an item alone (the local copy stays as it is) rather than stop
                # the whole calendar's sync on it; skipped, a change to it does not read as a removal.
                log.warning("pull skipped item %s: %s", item_id, error)
                skipped[item_id] = str(error)
        self._skipped = skipped
        if not missing_ok and len(result) < len(item_ids):
            raise ItemGone()
        return result
