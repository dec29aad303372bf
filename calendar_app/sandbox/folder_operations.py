"""GetFolder: distinguished folders (root, calendar, sentitems, deleteditems, ...) and folders by FolderId."""

from __future__ import annotations

from typing import Any

from lxml import etree

from calendar_app.sandbox.mailbox_store import FOLDER_CHANGE_KEY, Folder, Mailbox
from calendar_app.sandbox.operation_context import OperationContext
from calendar_app.sandbox.soap import OperationError, error_message, m, new_response, success_message, t

_DEFAULT_FOLDER_FIELDS = frozenset({"FolderId", "DisplayName", "TotalCount", "ChildFolderCount", "UnreadCount"})


def get_folder(context: OperationContext) -> Any:
    shape = context.body.find(m("FolderShape"))
    base = (shape.findtext(t("BaseShape")) if shape is not None else None) or "Default"
    requested: set[str] = set()
    if shape is not None and shape.find(t("AdditionalProperties")) is not None:
        for uri in shape.find(t("AdditionalProperties")):
            requested.add(str(uri.get("FieldURI", "")).split(":", 1)[-1])
    response, messages = new_response("GetFolder")
    folder_ids = context.body.find(m("FolderIds"))
    for folder_id in folder_ids if folder_ids is not None else []:
        if not isinstance(folder_id.tag, str):
            continue
        try:
            mailbox, folder = context.resolve_folder(folder_id)
        except OperationError as error:
            message = error_message(messages, "GetFolder", error)
            etree.SubElement(message, m("Folders"))
            continue
        message = success_message(messages, "GetFolder")
        folders = etree.SubElement(message, m("Folders"))
        folders.append(render_folder(mailbox, folder, base.strip(), requested))
    return response


def render_folder(mailbox: Mailbox, folder: Folder, base: str, requested: set[str]) -> Any:
    element = etree.Element(t(folder.element_name))
    if base == "AllProperties":
        wanted = {"FolderId", "ParentFolderId", "FolderClass", "DisplayName", "TotalCount", "ChildFolderCount",
                  "UnreadCount"}
    elif base == "Default":
        wanted = set(_DEFAULT_FOLDER_FIELDS)
    else:
        wanted = {"FolderId"}
    wanted |= requested
    children = [f for f in mailbox.folders.values() if f.parent == folder.name]
    values: list[tuple[str, Any]] = [
        ("FolderId", None),
        ("ParentFolderId", folder.parent or None),
        ("FolderClass", folder.folder_class or None),
        ("DisplayName", folder.display_name),
        ("TotalCount", str(len(folder.items))),
        ("ChildFolderCount", str(len(children))),
    ]
    for name, value in values:
        if name not in wanted:
            continue
        if name == "FolderId":
            etree.SubElement(element, t("FolderId"), Id=mailbox.folder_id(folder.name), ChangeKey=FOLDER_CHANGE_KEY)
        elif name == "ParentFolderId":
            if value:
                etree.SubElement(element, t("ParentFolderId"), Id=mailbox.folder_id(value),
                                 ChangeKey=FOLDER_CHANGE_KEY)
        elif value is not None:
            etree.SubElement(element, t(name)).text = value
    # t:CalendarFolder has no UnreadCount in the schema; t:Folder ends with it.
    if folder.element_name == "Folder" and "UnreadCount" in wanted:
        etree.SubElement(element, t("UnreadCount")).text = "0"
    return element
