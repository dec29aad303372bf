"""SyncFolderItems: the net change per item since a SyncState, from the folder's change log.

A SyncState names the folder and the mailbox sequence number the client has seen; a page ends at the last
change it carries, so the next call continues exactly there."""

from __future__ import annotations

import base64
import struct
from typing import Any

from lxml import etree

from calendar_app.sandbox.mailbox_store import Folder, Mailbox
from calendar_app.sandbox.operation_context import OperationContext, parse_item_shape
from calendar_app.sandbox.soap import OperationError, bool_text, error_message, m, new_response, success_message, t

MAX_CHANGES = 512
INVALID_SYNC_STATE = "Synchronization state data is corrupt or otherwise invalid."


def encode_sync_state(mailbox: Mailbox, folder: Folder, sequence: int) -> str:
    return base64.b64encode(b"SBXS" + struct.pack(">Q", sequence) + mailbox.folder_id(folder.name).encode()).decode()


def decode_sync_state(text: str, mailbox: Mailbox, folder: Folder) -> int:
    if not text.strip():
        return 0
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raw = b""
    if len(raw) < 12 or not raw.startswith(b"SBXS") or raw[12:].decode(errors="replace") != mailbox.folder_id(
            folder.name):
        raise OperationError("ErrorInvalidSyncStateData", INVALID_SYNC_STATE)
    sequence = int(struct.unpack(">Q", raw[4:12])[0])
    if sequence > mailbox.sequence:
        raise OperationError("ErrorInvalidSyncStateData", INVALID_SYNC_STATE)
    return sequence


def sync_folder_items(context: OperationContext) -> Any:
    body = context.body
    shape = parse_item_shape(body.find(m("ItemShape")))
    response, messages = new_response("SyncFolderItems")
    try:
        folder_element = body.find(m("SyncFolderId"))
        if folder_element is None or not len(folder_element):
            raise OperationError("ErrorInvalidIdMalformed", "Id is malformed.")
        mailbox, folder = context.resolve_folder(folder_element[0])
        maximum = int(body.findtext(m("MaxChangesReturned")) or "0")
        if not 1 <= maximum <= MAX_CHANGES:
            raise OperationError("ErrorInvalidArgument", f"MaxChangesReturned must be between 1 and {MAX_CHANGES}.")
        ignore = {e.get("Id") for e in body.find(m("Ignore"))} if body.find(m("Ignore")) is not None else set()
        with mailbox.lock:
            since = decode_sync_state(body.findtext(m("SyncState")) or "", mailbox, folder)
            changes = etree.Element(m("Changes"))
            last_sequence = since
            count = 0
            more = False
            for sequence, kind, item_id in folder.changes_since(since):
                if count == maximum:
                    more = True
                    break
                last_sequence = sequence
                if item_id in ignore:
                    continue
                change = etree.SubElement(changes, t(kind))
                if kind == "Delete":
                    etree.SubElement(change, t("ItemId"), Id=item_id)
                else:
                    change.append(context.render_item(mailbox, folder.items[item_id], shape))
                count += 1
            state = encode_sync_state(mailbox, folder, last_sequence if more else mailbox.sequence)
    except OperationError as error:
        message = error_message(messages, "SyncFolderItems", error)
        etree.SubElement(message, m("SyncState"))
        etree.SubElement(message, m("IncludesLastItemInRange")).text = "true"
        return response
    message = success_message(messages, "SyncFolderItems")
    etree.SubElement(message, m("SyncState")).text = state
    etree.SubElement(message, m("IncludesLastItemInRange")).text = bool_text(not more)
    message.append(changes)
    return response
