"""What every operation needs: the caller, the mailbox it acts on, and how to resolve folder and item ids
and response shapes the way Exchange does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from calendar_app.sandbox.config import SandboxUser
from calendar_app.sandbox.mailbox_store import FOLDER_CHANGE_KEY, Folder, Mailbox, MailboxStore, parse_folder_id
from calendar_app.sandbox.notifications import NotificationHub
from calendar_app.sandbox.soap import OperationError, SoapRequest, t
from calendar_app.sandbox.stored_item import (
    DEFAULT_SHAPE,
    ExtendedKey,
    StoredItem,
    extended_key,
    field_uri_to_element,
    mailbox_of_item_id,
)

ITEM_NOT_FOUND = "The specified object was not found in the store."
ID_MALFORMED = "Id is malformed."
ACCESS_DENIED = "Access is denied. Check credentials and try again."
MISSING_ADDRESS = ("When making a request as an account that does not have a mailbox, you must specify the mailbox "
                   "primary SMTP address for any distinguished folder Ids.")


@dataclass
class ItemShape:
    base: str  # IdOnly | Default | AllProperties
    fields: frozenset[str]
    extended: list[ExtendedKey]

    def wanted(self) -> frozenset[str] | None:
        if self.base == "AllProperties":
            return None
        if self.base == "Default":
            return DEFAULT_SHAPE | self.fields
        return frozenset({"ItemId"}) | self.fields


def parse_item_shape(shape_element: Any) -> ItemShape:
    if shape_element is None:
        return ItemShape("IdOnly", frozenset(), [])
    base = shape_element.findtext(t("BaseShape")) or "IdOnly"
    fields: set[str] = set()
    extended: list[ExtendedKey] = []
    additional = shape_element.find(t("AdditionalProperties"))
    if additional is not None:
        for child in additional:
            local = etree.QName(child).localname
            if local == "FieldURI":
                fields.add(field_uri_to_element(child.get("FieldURI", "")))
            elif local == "ExtendedFieldURI":
                extended.append(extended_key(child))
            elif local == "IndexedFieldURI":
                fields.add(field_uri_to_element(child.get("FieldURI", "")))
    return ItemShape(base.strip(), frozenset(fields), extended)


@dataclass
class OperationContext:
    user: SandboxUser
    mailbox: Mailbox | None  # the mailbox the request acts on (impersonated or own)
    store: MailboxStore
    hub: NotificationHub
    request: SoapRequest
    heartbeat_seconds: float = 30.0

    @property
    def body(self) -> Any:
        return self.request.body

    def acting_mailbox(self) -> Mailbox:
        if self.mailbox is None:
            raise OperationError("ErrorMissingEmailAddress", MISSING_ADDRESS)
        return self.mailbox

    def resolve_folder(self, element: Any) -> tuple[Mailbox, Folder]:
        """A t:DistinguishedFolderId or t:FolderId → (mailbox, folder), with Exchange's errors."""
        local = etree.QName(element).localname
        if local == "DistinguishedFolderId":
            name = element.get("Id", "")
            address = element.findtext(f"{t('Mailbox')}/{t('EmailAddress')}")
            mailbox = self._mailbox_for_address(address) if address else self.acting_mailbox()
            folder = mailbox.folder(name)
            if folder is None:
                # Every distinguished folder exists in a real mailbox; make the others on first use.
                folder = Folder(name, name[:1].upper() + name[1:], "IPF.Note", "msgfolderroot", "Folder")
                mailbox.folders[name] = folder
            return mailbox, folder
        if local == "FolderId":
            parsed = parse_folder_id(element.get("Id", ""))
            if parsed is None:
                raise OperationError("ErrorInvalidIdMalformed", ID_MALFORMED)
            address, name = parsed
            mailbox = self._mailbox_for_address(address)
            folder = mailbox.folder(name)
            if folder is None:
                raise OperationError("ErrorFolderNotFound", "The specified folder could not be found in the store.")
            return mailbox, folder
        raise OperationError("ErrorInvalidIdMalformed", ID_MALFORMED)

    def _mailbox_for_address(self, address: str) -> Mailbox:
        acting = self.mailbox
        if acting is not None and acting.address.lower() == address.strip().lower():
            return acting
        if self.store.get(address.strip()) is None:
            raise OperationError("ErrorNonExistentMailbox", "The SMTP address has no mailbox associated with it.")
        # Delegate access to someone else's mailbox needs FullAccess, which the sandbox grants to nobody.
        raise OperationError("ErrorAccessDenied", ACCESS_DENIED)

    def resolve_item(self, element: Any) -> tuple[Mailbox, StoredItem]:
        item_id = element.get("Id") or element.get("RecurringMasterId") or ""
        local = etree.QName(element).localname
        if local == "OccurrenceItemId":
            raise OperationError("ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange",
                                 "The occurrence index is out of recurrence range.")
        address = mailbox_of_item_id(item_id)
        if address is None:
            raise OperationError("ErrorInvalidIdMalformed", ID_MALFORMED)
        mailbox = self._mailbox_for_address(address)
        item = mailbox.find_item(item_id)
        if item is None:
            raise OperationError("ErrorItemNotFound", ITEM_NOT_FOUND)
        return mailbox, item

    def render_item(self, mailbox: Mailbox, item: StoredItem, shape: ItemShape) -> Any:
        return item.render(mailbox.folder_id(item.folder), FOLDER_CHANGE_KEY, shape.wanted(), shape.extended,
                           all_extended=False)

    def id_only(self, mailbox: Mailbox, item: StoredItem) -> Any:
        return item.render(mailbox.folder_id(item.folder), FOLDER_CHANGE_KEY, frozenset({"ItemId"}), None)
