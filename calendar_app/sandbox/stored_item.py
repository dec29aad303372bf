"""One item in a sandbox mailbox, its ids and change keys, and how it is written back in a response shape.

An item keeps the elements a client sent (namespaced `t:` elements, by local name) plus the ones Exchange
maintains itself (ItemClass, UID, Organizer, LastModifiedTime...). On the way out, elements are put in the
order types.xsd prescribes, booleans become true/false and date-times UTC with `Z`, as Exchange writes them."""

from __future__ import annotations

import base64
import contextlib
import copy
import datetime as dt
import struct
import uuid
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from calendar_app.sandbox.item_schema import (
    BOOLEAN_ELEMENTS,
    CALENDAR_ITEM_TYPE_ELEMENTS,
    DATETIME_ELEMENTS,
    ITEM_TYPE_ELEMENTS,
    MEETING_CANCELLATION_MESSAGE_TYPE_ELEMENTS,
    MEETING_MESSAGE_TYPE_ELEMENTS,
    MEETING_REQUEST_MESSAGE_TYPE_ELEMENTS,
    MESSAGE_TYPE_ELEMENTS,
)
from calendar_app.sandbox.soap import OperationError, t


def _order(*names: tuple[str, ...]) -> dict[str, int]:
    order: dict[str, int] = {}
    for group in names:
        for name in group:
            order.setdefault(name, len(order))
    return order


CALENDAR_ELEMENT_ORDER = _order(ITEM_TYPE_ELEMENTS, CALENDAR_ITEM_TYPE_ELEMENTS)
ELEMENT_ORDERS: dict[str, dict[str, int]] = {
    "CalendarItem": CALENDAR_ELEMENT_ORDER,
    "Message": _order(ITEM_TYPE_ELEMENTS, MESSAGE_TYPE_ELEMENTS),
    "MeetingRequest": _order(ITEM_TYPE_ELEMENTS, MESSAGE_TYPE_ELEMENTS, MEETING_MESSAGE_TYPE_ELEMENTS,
                             MEETING_REQUEST_MESSAGE_TYPE_ELEMENTS),
    "MeetingCancellation": _order(ITEM_TYPE_ELEMENTS, MESSAGE_TYPE_ELEMENTS, MEETING_MESSAGE_TYPE_ELEMENTS,
                                  MEETING_CANCELLATION_MESSAGE_TYPE_ELEMENTS),
}

# What Exchange returns for a calendar item with BaseShape Default (a subset, in schema order).
DEFAULT_SHAPE = frozenset({
    "ItemId", "ParentFolderId", "ItemClass", "Subject", "Sensitivity", "HasAttachments", "IsAssociated", "Start",
    "End", "IsAllDayEvent", "LegacyFreeBusyStatus", "Location", "CalendarItemType", "Organizer",
})
# AllProperties leaves out what must be asked for explicitly.
NOT_IN_ALL_PROPERTIES = frozenset({"MimeContent", "UniqueBody", "NormalizedBody", "TextBody", "ExtendedProperty"})

# FieldURIs whose element name differs from the part after the colon.
FIELD_URI_ELEMENT_EXCEPTIONS: dict[str, str] = {}


def field_uri_to_element(field_uri: str) -> str:
    if field_uri in FIELD_URI_ELEMENT_EXCEPTIONS:
        return FIELD_URI_ELEMENT_EXCEPTIONS[field_uri]
    return field_uri.split(":", 1)[-1]


ExtendedKey = tuple[str, str, str, str]  # (property set id or distinguished set, name or id or tag, tag, type)


def extended_key(uri: Any) -> ExtendedKey:
    """Identity of a named/tagged extended property from a t:ExtendedFieldURI element (case rules as Exchange:
    GUIDs compare case-insensitively, names case-sensitively)."""
    property_set = (uri.get("PropertySetId") or uri.get("DistinguishedPropertySetId") or "").lower()
    name = uri.get("PropertyName") or uri.get("PropertyId") or ""
    tag = (uri.get("PropertyTag") or "").lower()
    return (property_set, name, tag, uri.get("PropertyType") or "")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def format_datetime(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(text: str) -> dt.datetime:
    """xs:dateTime → aware UTC. A value without an offset is taken as UTC (the samples send local times
    without a TimeZoneContext; exchangelib always sends UTC)."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as error:
        raise OperationError("ErrorInvalidValueForProperty", f"'{text}' is not a valid date and time.") from error
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def new_item_id(mailbox: str) -> str:
    # Exchange ids are opaque base64; ours carry the mailbox so ConvertId and wrong-mailbox checks can use it.
    return base64.b64encode(b"SBXI" + uuid.uuid4().bytes + mailbox.lower().encode()).decode()


def mailbox_of_item_id(item_id: str) -> str | None:
    try:
        raw = base64.b64decode(item_id, validate=True)
    except ValueError:
        return None
    if not raw.startswith(b"SBXI") or len(raw) < 21:
        return None
    try:
        return raw[20:].decode()
    except UnicodeDecodeError:
        return None


def make_change_key(item_id: str, version: int) -> str:
    salt = base64.b64decode(item_id)[4:8]
    return base64.b64encode(b"CK\x00\x01" + struct.pack(">Q", version) + salt).decode()


def version_of_change_key(change_key: str) -> int | None:
    try:
        raw = base64.b64decode(change_key, validate=True)
    except ValueError:
        return None
    if len(raw) != 16 or not raw.startswith(b"CK\x00\x01"):
        return None
    return int(struct.unpack(">Q", raw[4:12])[0])


@dataclass
class StoredItem:
    item_id: str
    folder: str  # distinguished folder name
    item_type: str  # "CalendarItem", "MeetingCancellation", ...
    elements: dict[str, Any]  # local name → t: element (client-set and maintained fields)
    extended: dict[ExtendedKey, Any]  # → t:ExtendedProperty element
    version: int = 1
    field_versions: dict[str, int] = field(default_factory=dict)  # element / extended key repr → version set
    created: dt.datetime = field(default_factory=utc_now)

    @property
    def change_key(self) -> str:
        return make_change_key(self.item_id, self.version)

    def text(self, name: str) -> str | None:
        element = self.elements.get(name)
        return None if element is None else (element.text or "")

    @property
    def start(self) -> dt.datetime | None:
        text = self.text("Start")
        return parse_datetime(text) if text else None

    @property
    def end(self) -> dt.datetime | None:
        text = self.text("End")
        return parse_datetime(text) if text else None

    def extended_value(self, key: ExtendedKey) -> str | None:
        element = self.extended.get(key)
        if element is None:
            return None
        value = element.find(t("Value"))
        if value is not None:
            return str(value.text or "")
        values = element.find(t("Values"))
        if values is not None:
            return "\n".join(str(v.text or "") for v in values)
        return None

    def attendee_addresses(self) -> list[str]:
        addresses = []
        for group in ("RequiredAttendees", "OptionalAttendees", "Resources"):
            container = self.elements.get(group)
            if container is None:
                continue
            for address in container.iter(t("EmailAddress")):
                if address.text and address.text.strip():
                    addresses.append(address.text.strip())
        return addresses

    # ---------------------------------------------------------------- serialisation
    def render(self, parent_folder_id: str, parent_change_key: str, wanted: frozenset[str] | None,
               extended_wanted: list[ExtendedKey] | None, *, all_extended: bool = False) -> Any:
        """The item as `t:<ItemType>`. wanted=None means every stored element (AllProperties)."""
        element = etree.Element(t(self.item_type))
        maintained = {
            "ItemId": _id_element("ItemId", self.item_id, self.change_key),
            "ParentFolderId": _id_element("ParentFolderId", parent_folder_id, parent_change_key),
        }
        names: set[str] = set(self.elements) | set(maintained)
        if wanted is not None:
            names &= wanted | {"ItemId"}
        else:
            names -= NOT_IN_ALL_PROPERTIES
        order = ELEMENT_ORDERS.get(self.item_type, CALENDAR_ELEMENT_ORDER)
        extended_keys = list(self.extended) if all_extended else [
            k for k in (extended_wanted or []) if k in self.extended]
        extended_position = order["ExtendedProperty"]
        placed_extended = False
        names = {name for name in names if name in order}
        for name in sorted(names, key=lambda n: order[n]):
            if not placed_extended and order[name] > extended_position:
                _append_extended(element, self.extended, extended_keys)
                placed_extended = True
            source = maintained.get(name)
            if source is None:
                source = self.elements[name]
            element.append(_normalised_copy(source))
        if not placed_extended:
            _append_extended(element, self.extended, extended_keys)
        return element

    def to_storage(self) -> dict[str, Any]:
        container = etree.Element(t("Stored"), nsmap={"t": t("")[1:-1]})
        for child in self.elements.values():
            container.append(copy.deepcopy(child))
        for child in self.extended.values():
            container.append(copy.deepcopy(child))
        return {
            "id": self.item_id, "folder": self.folder, "type": self.item_type, "version": self.version,
            "created": format_datetime(self.created), "field_versions": self.field_versions,
            "xml": etree.tostring(container, encoding="unicode"),
        }

    @classmethod
    def from_storage(cls, record: dict[str, Any]) -> StoredItem:
        container = etree.fromstring(record["xml"], parser=etree.XMLParser(resolve_entities=False, no_network=True))
        elements: dict[str, Any] = {}
        extended: dict[ExtendedKey, Any] = {}
        for child in container:
            name = etree.QName(child).localname
            if name == "ExtendedProperty":
                uri = child.find(t("ExtendedFieldURI"))
                if uri is not None:
                    extended[extended_key(uri)] = child
            else:
                elements[name] = child
        return cls(record["id"], record["folder"], record["type"], elements, extended, int(record["version"]),
                   dict(record.get("field_versions", {})), parse_datetime(record["created"]))


def _id_element(name: str, identifier: str, change_key: str) -> Any:
    return etree.Element(t(name), Id=identifier, ChangeKey=change_key)


def _append_extended(element: Any, extended: dict[ExtendedKey, Any], keys: list[ExtendedKey]) -> None:
    for key in keys:
        element.append(copy.deepcopy(extended[key]))


def _normalised_copy(source: Any) -> Any:
    """A copy with the value forms Exchange writes: booleans true/false, date-times in UTC with Z."""
    duplicate = copy.deepcopy(source)
    for node in duplicate.iter():
        if not isinstance(node.tag, str) or len(node):
            continue
        local = etree.QName(node).localname
        if local in BOOLEAN_ELEMENTS and node.text is not None:
            node.text = "true" if node.text.strip().lower() in ("1", "true") else "false"
        elif local in DATETIME_ELEMENTS and node.text:
            with contextlib.suppress(OperationError):
                node.text = format_datetime(parse_datetime(node.text))
    return duplicate
