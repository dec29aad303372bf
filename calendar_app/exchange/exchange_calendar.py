"""The RemoteCalendar protocol over EWS: one mailbox's calendar folder through exchangelib.

The exchangelib `Account` comes from the account factory (NTLM, impersonation or the rep's own
account, pinned TLS, pinned server version); this class only speaks the operations and turns every
exchangelib exception into the sync layer's typed errors (`error_translation`).

Each operation is one EWS request where EWS allows it (cancel adds exchangelib's Sent Items lookup;
an incremental pull is one SyncFolderItems plus one GetItem for the changed items).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from exchangelib import Account, CalendarItem
from exchangelib.errors import ErrorItemNotFound
from exchangelib.items import (
    ALL_OCCURRENCES,
    ID_ONLY,
    MOVE_TO_DELETED_ITEMS,
    NEVER_OVERWRITE,
    SEND_TO_ALL_AND_SAVE_COPY,
    SEND_TO_NONE,
)
from exchangelib.properties import ItemId
from exchangelib.services import DeleteItem, SyncFolderItems

from calendar_app.domain.appointment import Appointment
from calendar_app.domain.remote_errors import ItemGone
from calendar_app.domain.remote_items import (
    ChangeKind,
    ChangePage,
    ItemVersion,
    RemoteChange,
    RemoteItem,
    SendTo,
)
from calendar_app.exchange.error_translation import translate
from calendar_app.exchange.item_mapping import appointment_from_item, item_field_names, item_values

T = TypeVar("T")

_CHANGE_KINDS = {"create": ChangeKind.CREATED, "update": ChangeKind.UPDATED, "delete": ChangeKind.DELETED}


class ExchangeCalendar:
    def __init__(self, account: Account) -> None:
        self._account = account
        self._folder: Any = None

    # ------------------------------------------------------------------ RemoteCalendar
    def create(self, appointment: Appointment, *, send_invitations: bool) -> ItemVersion:
        def create() -> ItemVersion:
            item = CalendarItem(account=self._account, folder=self._calendar(), **item_values(appointment))
            item.save(send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY if send_invitations else SEND_TO_NONE)
            return ItemVersion(str(item.id), str(item.changekey))

        return self._call(create, changes_server=True)

    def find_by_local_uuid(self, local_uuid: str) -> RemoteItem | None:
        def find() -> RemoteItem | None:
            found = list(self._calendar().filter(local_uuid=local_uuid))
            return _as_remote(found[0]) if found else None

        return self._call(find, changes_server=False)

    def get(self, item_id: str) -> RemoteItem:
        return self._call(lambda: _as_remote(self._fetch([item_id])[0]), changes_server=False)

    def update(self, item_id: str, change_key: str, appointment: Appointment, fields: Sequence[str], *,
               send_to: SendTo) -> ItemVersion:
        def update() -> ItemVersion:
            values = item_values(appointment)
            del values["local_uuid"]  # identity: never rewritten
            item = CalendarItem(account=self._account, folder=self._calendar(), id=item_id, changekey=change_key,
                                **values)
            item.save(update_fields=item_field_names(fields), conflict_resolution=NEVER_OVERWRITE,
                      send_meeting_invitations=send_to.value)
            return ItemVersion(str(item.id), str(item.changekey))

        return self._call(update, changes_server=True)

    def cancel_meeting(self, item_id: str, change_key: str) -> None:
        def cancel() -> None:
            CalendarItem(account=self._account, folder=self._calendar(), id=item_id, changekey=change_key).cancel()

        self._call(cancel, changes_server=True)

    def move_to_deleted_items(self, item_id: str) -> None:
        def move() -> None:
            results = list(DeleteItem(account=self._account).call(
                items=[ItemId(id=item_id)], delete_type=MOVE_TO_DELETED_ITEMS,
                send_meeting_cancellations=SEND_TO_NONE, affected_task_occurrences=ALL_OCCURRENCES,
                suppress_read_receipts=True,
            ))
            for result in results:
                if isinstance(result, Exception):
                    raise result

        self._call(move, changes_server=True)

    def sync_changes(self, sync_state: str | None, *, max_changes: int) -> ChangePage:
        def sync() -> ChangePage:
            service = SyncFolderItems(account=self._account)
            raw = list(service.call(folder=self._calendar(), shape=ID_ONLY, additional_fields=set(),
                                    sync_state=sync_state, ignore=None, max_changes_returned=max_changes,
                                    sync_scope=None))
            for entry in raw:
                if isinstance(entry, Exception):
                    raise entry
            changed = [(kind, item) for kind, item in raw if kind in _CHANGE_KINDS]
            fetch_ids = [str(item.id) for kind, item in changed if kind != "delete"]
            fetched = dict(zip(fetch_ids, self._fetch(fetch_ids, missing_ok=True), strict=True)) if fetch_ids else {}
            changes: list[RemoteChange] = []
            for kind, item in changed:
                item_id = str(item.id)
                full = fetched.get(item_id)
                if kind == "delete" or full is None:  # deleted, or gone again before we could read it
                    changes.append(RemoteChange(ChangeKind.DELETED, item_id, None))
                elif isinstance(full, CalendarItem):  # the calendar folder holds nothing else we sync
                    changes.append(RemoteChange(_CHANGE_KINDS[kind], item_id, _as_remote(full)))
            return ChangePage(tuple(changes), str(service.sync_state),
                              more_available=not service.includes_last_item_in_range)

        return self._call(sync, changes_server=False)

    # ------------------------------------------------------------------ internals
    def _calendar(self) -> Any:
        if self._folder is None:
            self._folder = self._account.calendar
        return self._folder

    def _fetch(self, item_ids: list[str], *, missing_ok: bool = False) -> list[Any]:
        """GetItem of every field (our extended properties included), in the order asked."""
        results = list(self._account.fetch(ids=[ItemId(id=i) for i in item_ids], folder=self._calendar()))
        items: list[Any] = []
        for result in results:
            if isinstance(result, ErrorItemNotFound) and missing_ok:
                items.append(None)
            elif isinstance(result, Exception):
                raise result
            else:
                items.append(result)
        return items

    def _call(self, operation: Callable[[], T], *, changes_server: bool) -> T:
        try:
            return operation()
        except ItemGone:
            raise
        except Exception as error:  # every exchangelib / requests failure leaves as a typed RemoteError
            raise translate(error, changes_server=changes_server) from error


def _as_remote(item: Any) -> RemoteItem:
    local_uuid, appointment = appointment_from_item(item)
    return RemoteItem(str(item.id), str(item.changekey), local_uuid, appointment)
